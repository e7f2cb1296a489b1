"""benchmarks/world_model.py counts PPO's real environment steps, not Gymnasium's autoreset steps."""

from benchmarks.world_model import real_steps
from gymforge.app import api


def test_ppos_real_steps_leave_out_the_autoreset_steps():
    """Catch episodes are exactly 9 steps. Two envs, 20 steps each per rollout, NEXT_STEP autoreset: steps 1-9 play,
    step 10 only resets, 11-19 play, 20 resets. So 18 real steps of 20 per env: 36 of 40 a rollout, and the next
    rollout starts right after a reset step, alike: 72 real steps where PPO's progress says 80."""
    config = api.make_config("ppo", {"env": "gymforge/Catch-v0", "n_envs": 2, "n_steps": 20, "batch_size": 40,
                                     "n_epochs": 1, "steps": 80, "seed": 0}, preset=None)
    learner = api.build_learner("ppo", config)
    counted = []
    for _ in range(2):
        before = learner.progress
        learner.train_step()
        counted.append(real_steps(learner, before))
    learner.close()
    assert counted == [36, 36] and learner.progress == 80
