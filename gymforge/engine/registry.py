"""Algorithm registry: name -> where its config and learner live, and its per-environment presets.

Entries are import paths, so nothing imports an algorithm until one is asked for. The table itself lives in the
application layer (gymforge/app/algorithms.py); the engine holds only the mechanism.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from gymforge.engine.config import checked_values, config_from_dict
from gymforge.engine.errors import ConfigError


@dataclass(frozen=True)
class Algorithm:
    name: str
    module: str
    learner_name: str
    config_name: str
    summary: str
    kind: str = "agent"  # "agent" (trained on --env) or "generative" (trained on --data)

    def load(self) -> tuple[type, type]:
        """(learner class, config class)."""
        module = importlib.import_module(self.module)
        return getattr(module, self.learner_name), getattr(module, self.config_name)

    @property
    def presets(self) -> dict[str, dict[str, Any]]:
        return load_presets(self.package, self.name)

    @property
    def package(self) -> str:
        """The package whose presets/ and search/ folders hold this algorithm's YAML (gymforge.agents, ...)."""
        return self.module.rpartition(".")[0]

    @property
    def subject_field(self) -> str:
        """The one rule for env versus data: agents train on --env, generative models on --data."""
        return "data" if self.kind == "generative" else "env"

    def preset_values(self, preset: str | None, subject: str | None) -> dict[str, Any]:
        """A preset's option values. preset="auto" picks the one named after the subject, if any."""
        presets = self.presets
        if preset in (None, "none"):
            return {}
        if preset == "auto":
            return dict(presets.get(subject, {})) if subject else {}
        if preset not in presets:
            raise ConfigError(f"{self.name} has no preset {preset!r}; its presets: {', '.join(presets) or 'none'}")
        values = dict(presets[preset])
        preset_subject = values.get(self.subject_field, preset)
        if subject and subject != preset_subject:
            raise ConfigError(f"preset {preset!r} is tuned for {preset_subject}, not {subject}; "
                              f"drop --preset or use --{self.subject_field} {preset_subject}")
        return values

    def option_values(self, values: dict[str, Any] | None = None, preset: str | None = "auto") -> dict[str, Any]:
        """Defaults < preset < values, as the option values to build the config from (nothing constructed yet)."""
        _, config_class = self.load()
        values = dict(values or {})
        subject = values.get(self.subject_field)
        if subject is None and preset in (None, "auto"):  # the default subject gets its preset too
            subject = next(field.default for field in dataclasses.fields(config_class)
                           if field.name == self.subject_field)
        options = self.preset_values(preset, subject)
        if preset not in (None, "auto", "none") and subject is None:  # a named preset without --env brings its env
            options.setdefault(self.subject_field, preset)
        return checked_values(config_class, {**options, **values}, source=f"{self.name} options")

    def make_config(self, values: dict[str, Any] | None = None, preset: str | None = "auto") -> Any:
        """The config: defaults < preset < values, checked and constructed once."""
        _, config_class = self.load()
        return config_from_dict(config_class, self.option_values(values, preset), source=f"{self.name} options")


@cache
def load_presets(package: str, name: str) -> dict[str, dict[str, Any]]:
    """Presets live beside the algorithms as <package>/presets/<name>.yaml: {preset: {option: value}}."""
    path = resources.files(package) / "presets" / f"{name}.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


ALGORITHMS: dict[str, Algorithm] = {}
"""Filled by the application layer (gymforge/app/algorithms.py) when `gymforge` is imported; the engine itself
names no algorithm."""


def register(algorithm: Algorithm) -> Algorithm:
    if ALGORITHMS.get(algorithm.name, algorithm) != algorithm:
        raise ConfigError(f"algorithm {algorithm.name!r} is registered already")
    ALGORITHMS[algorithm.name] = algorithm
    return algorithm


def get_algorithm(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {name!r}; choose one of: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


def algorithm_of(learner_class: type) -> Algorithm:
    """The registry entry of a learner class: how the Python API's PPO, VAE, ... know their own names."""
    for algorithm in ALGORITHMS.values():
        if (algorithm.module, algorithm.learner_name) == (learner_class.__module__, learner_class.__name__):
            return algorithm
    raise ConfigError(f"{learner_class.__name__} is not a registered algorithm (gymforge/app/algorithms.py)")
