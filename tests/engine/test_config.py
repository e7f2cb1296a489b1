import pytest
from gymforge.agents.ppo import PPOConfig
from gymforge.agents.qlearning import QLearningConfig

from gymforge.engine.config import config_from_dict, read_config_file, save_config
from gymforge.engine.errors import ConfigError


def test_config_round_trips_through_yaml(tmp_path):
    config = QLearningConfig(env="CartPole-v1", bins=(1, 1, 6, 12), low=(-1.0, -2.0, -0.2, -3.0),
                             high=(1.0, 2.0, 0.2, 3.0), gamma=0.9, seed=7)
    save_config(tmp_path / "config.yaml", "qlearning", config)
    algo, values = read_config_file(tmp_path / "config.yaml")
    assert algo == "qlearning"
    assert config_from_dict(QLearningConfig, values) == config


def test_unknown_option_is_refused_with_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown option.*learnin_rate.*valid options"):
        config_from_dict(QLearningConfig, {"learnin_rate": 0.1})


@pytest.mark.parametrize("values, message", [
    ({"learning_rate": -0.1}, "learning-rate must be in"),
    ({"epsilon": 1.5}, "epsilon must be in"),
    ({"final_epsilon": -0.01}, "final-epsilon must be in"),
    ({"gamma": 2.0}, "gamma must be in"),
    ({"steps": 0}, "steps must be positive"),
])
def test_invalid_hyperparameters_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        QLearningConfig(**values)


def test_a_value_outside_a_literal_fields_choices_is_refused(tmp_path):
    """A config file (or the API) is checked like the CLI's flags: a typo in a choice field is one clear line."""
    with pytest.raises(ConfigError, match="--device must be one of auto, cpu, cuda.*got 'gpu'"):
        config_from_dict(QLearningConfig, {"device": "gpu"}, source=str(tmp_path / "config.yaml"))


def test_numbers_yaml_reads_as_text_are_read_as_their_fields_type(tmp_path):
    """YAML 1.1 loads `3e-4` and `1e6` as strings: a config file saying `learning_rate: 3e-4` failed with
    "'>' not supported between instances of 'str' and 'int'"."""
    path = tmp_path / "config.yaml"
    path.write_text("algo: ppo\nenv: CartPole-v1\nlearning_rate: 3e-4\nsteps: 1e5\ngamma: 1\n")
    _, values = read_config_file(path)
    assert values["learning_rate"] == "3e-4"  # what YAML gives ...
    config = config_from_dict(PPOConfig, values, source=str(path))
    assert config.learning_rate == 3e-4 and config.steps == 100_000 and config.gamma == 1.0  # ... and the config
    assert type(config.steps) is int and type(config.gamma) is float


@pytest.mark.parametrize("values, message", [
    ({"learning_rate": "fast"}, "--learning-rate must be a number in cfg, got 'fast'"),
    ({"steps": 1.5}, "--steps must be an integer in cfg, got 1.5"),
    ({"steps": True}, "--steps must be an integer in cfg, got True"),
])
def test_a_value_that_is_not_a_number_is_refused_in_one_line(values, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(PPOConfig, values, source="cfg")
