"""The one exception type for user mistakes in `envs`, so the CLI can print it as a single line and exit."""


class EnvError(ValueError):
    """A user mistake (bad id, missing extra, bad argument); the message says what is wrong and how to fix it."""
