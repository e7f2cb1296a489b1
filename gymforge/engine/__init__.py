"""The engine under both sides: the Trainer, run folders, checkpoints, logging, seeding, config, the learner
contracts and the algorithm registry's mechanism. It names no algorithm and never imports the application."""
