"""Config dataclasses: one per algorithm, with defaults that work, saved to and reloaded from config.yaml.

Every field carries a docstring; the CLI turns fields into flags (tyro), so no option is written twice.
Precedence when a run starts: dataclass defaults < environment preset < --config FILE < command-line flags.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from gymforge.engine.errors import ConfigError, require

C = TypeVar("C", bound="TrainConfig")


@dataclass
class TrainConfig:
    """What every learner's config holds: the budget, seeding, device and the trainer's cadence."""

    steps: int = 100_000
    """Training budget in the learner's progress units (environment steps, or samples seen)."""
    seed: int = 0
    """Seed for python, numpy, torch and the environments; the same seed gives the same run."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where tensors live: auto picks cuda when available."""
    torch_threads: int = 1
    """Threads torch may use; small networks run fastest on one."""
    eval_every: int = 10_000
    """Evaluate (and log media) every this many progress units; 0 evaluates only at the end."""
    checkpoint_every: int = 10_000
    """Write checkpoints/last.pt every this many progress units (and at the end, and on Ctrl-C)."""
    keep_every: int = 0
    """Also keep a periodic checkpoints/step-N.pt every this many units; 0 keeps none."""
    stop_at: float | None = None
    """Stop at the first evaluation whose score reaches this (at least it for a return, at most for a loss or FID)."""

    def __post_init__(self) -> None:
        require(self.steps > 0, f"--steps must be positive, got {self.steps}")
        require(self.torch_threads >= 1, f"--torch-threads must be >= 1, got {self.torch_threads}")
        for name in ("eval_every", "checkpoint_every", "keep_every"):
            value = getattr(self, name)
            require(value >= 0, f"--{name.replace('_', '-')} must be >= 0, got {value}")

    @property
    def subject(self) -> str:
        """What the run is about (an environment id or a dataset), used in the run's default name."""
        return "run"


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain YAML-safe dict of a config (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in dataclasses.asdict(config).items()}


def checked_values(config_class: type[C], values: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Option values checked against a config class without constructing it: unknown keys are refused (listing the
    valid ones), values outside a Literal field's choices too, YAML lists become tuples where a field is one, and
    numbers are read as their field's type (see as_number).
    (The CLI's flags get these checks from tyro; a config file, a preset or the API gets them here.)"""
    fields = {field.name: field for field in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} in {source}; valid options: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(config_class)
    converted = {}
    for key, value in values.items():
        if isinstance(value, list) and "tuple" in str(hints.get(key, "")):
            value = tuple(value)
        choices = typing.get_args(hints[key]) if typing.get_origin(hints[key]) is Literal else ()
        if choices and value not in choices:
            raise ConfigError(f"--{key.replace('_', '-')} must be one of {', '.join(map(str, choices))} in {source}, "
                              f"got {value!r}")
        if hints[key] in (int, float):
            value = as_number(value, hints[key], f"--{key.replace('_', '-')}", source)
        converted[key] = value
    return converted


def as_number(value: Any, kind: type, flag: str, source: str) -> int | float:
    """A float field's or int field's value as that type. YAML 1.1 reads `3e-4` and `1e6` (no dot) as strings, so
    a config file or `--set` would otherwise hand a learning rate over as text and fail deep in validation;
    an integral float (1e6) is taken for an int field. Anything else is refused in one line."""
    number = None
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            pass
    if number is None or (kind is int and not number.is_integer()):
        raise ConfigError(f"{flag} must be {'an integer' if kind is int else 'a number'} in {source}, got {value!r}")
    return int(number) if kind is int else number


def config_from_dict(config_class: type[C], values: dict[str, Any], source: str = "config") -> C:
    """Build a config from a plain dict of option values (see checked_values); __post_init__ validates it."""
    try:
        return config_class(**checked_values(config_class, values, source))
    except TypeError as error:
        raise ConfigError(f"invalid {source}: {error}") from None


def unconstructed(config_class: type[C], values: dict[str, Any]) -> C:
    """An instance holding checked option values WITHOUT running __init__/__post_init__: the defaults the CLI's flag
    parser shows in --help and fills in, so that `gymforge train` constructs (and validates) its config once."""
    instance = object.__new__(config_class)
    for field in dataclasses.fields(config_class):
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default  # type: ignore[misc]
        setattr(instance, field.name, values.get(field.name, default))
    return instance


def save_config(path: Path, algo: str, config: TrainConfig) -> None:
    """Write config.yaml: the algorithm name and every field, so `--config` repeats the run."""
    text = yaml.safe_dump({"algo": algo, **config_to_dict(config)}, sort_keys=False)
    path.write_text(text)


def read_config_file(path: Path) -> tuple[str | None, dict[str, Any]]:
    """Read a YAML config file into (algo or None, field values)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of option: value")
    algo = values.pop("algo", None)
    return algo, values
