"""`gymforge train` resolves its config in one place with one parse: defaults < preset < --config < flags."""

from __future__ import annotations

import yaml
from gymforge.agents.ppo import PPOConfig

from gymforge.app import api
from gymforge.app.cli import main


def parse_train(monkeypatch, argv: list[str]) -> tuple[PPOConfig, int]:
    """Run `gymforge train ARGV` up to the point a run would start; returns the config and how many times a
    config was constructed (each construction runs __post_init__ once)."""
    constructions, captured = [], {}
    original = PPOConfig.__post_init__

    def counting(self):
        constructions.append(self)
        original(self)

    def fake_train(algo, config, **kwargs):
        captured["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(PPOConfig, "__post_init__", counting)
    monkeypatch.setattr(api, "train", fake_train)
    try:
        main(["train", *argv])
    except SystemExit:
        pass
    return captured["config"], len(constructions)


def test_train_constructs_its_config_once(monkeypatch):
    config, constructions = parse_train(monkeypatch, ["ppo", "--env", "CartPole-v1", "--steps", "5000"])
    assert constructions == 1
    assert config.steps == 5000 and config.env == "CartPole-v1"


def test_precedence_is_defaults_then_preset_then_file_then_flags(monkeypatch, tmp_path):
    preset = api.get_algorithm("ppo").presets["CartPole-v1"]
    file = tmp_path / "options.yaml"
    file.write_text(yaml.safe_dump({"algo": "ppo", "env": "CartPole-v1", "n_epochs": 3, "gamma": 0.95}))
    config, constructions = parse_train(monkeypatch, ["ppo", "--config", str(file), "--gamma", "0.9"])
    assert constructions == 1
    assert config.gamma == 0.9  # the flag beats the file
    assert config.n_epochs == 3  # the file beats the preset
    assert config.n_steps == preset["n_steps"] != PPOConfig.n_steps  # the preset beats the default
    assert config.clip_range == PPOConfig.clip_range  # untouched options keep their default


def test_the_env_flag_picks_its_preset_and_none_drops_it(monkeypatch):
    config, _ = parse_train(monkeypatch, ["ppo", "--env", "Acrobot-v1"])
    assert config.n_envs == api.get_algorithm("ppo").presets["Acrobot-v1"]["n_envs"]
    config, _ = parse_train(monkeypatch, ["ppo", "--env", "Acrobot-v1", "--preset", "none"])
    assert config.n_envs == PPOConfig.n_envs


def test_a_bad_option_in_the_config_file_is_one_line(tmp_path, capsys):
    file = tmp_path / "options.yaml"
    file.write_text(yaml.safe_dump({"algo": "ppo", "n_epoch": 3}))
    assert main(["train", "--config", str(file)]) == 2
    error = capsys.readouterr().err
    assert "unknown option(s) n_epoch" in error and "Traceback" not in error
