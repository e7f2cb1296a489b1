"""Errors that are the user's to fix: the CLI prints them as one line and exits non-zero, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix (bad flag, missing run, corrupt checkpoint); the message says how."""


class ConfigError(UserError):
    """An invalid hyperparameter or a config that does not fit the environment."""


class CheckpointError(UserError):
    """A missing, corrupt or unsafe checkpoint or run folder."""


class NonFiniteError(UserError):
    """A loss or metric became NaN or infinite; training stops instead of writing garbage."""


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless condition holds; keeps config validation one line per rule."""
    if not condition:
        raise ConfigError(message)
