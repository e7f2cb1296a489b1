"""Register gymforge's environments with Gymnasium under the `gymforge/` namespace (done on `import envs`)."""

import gymnasium as gym

ENV_IDS = ("gymforge/Catch-v0", "gymforge/TMaze-v0", "gymforge/GridWorld-v0", "gymforge/CartPoleNoVel-v0")


def register_envs() -> None:
    """Register every gymforge id once; importing `envs` calls this, so `gymnasium.make` finds them."""
    if ENV_IDS[0] in gym.registry:
        return
    gym.register("gymforge/Catch-v0", entry_point="gymforge.envs.catch:CatchEnv")
    gym.register("gymforge/TMaze-v0", entry_point="gymforge.envs.tmaze:TMazeEnv")
    gym.register("gymforge/GridWorld-v0", entry_point="gymforge.envs.gridworld:GridWorldEnv", max_episode_steps=200)
    # CartPole-v1's own limit and threshold, so scores compare with the fully observed task.
    gym.register(
        "gymforge/CartPoleNoVel-v0",
        entry_point="gymforge.envs.cartpole_no_velocity:CartPoleNoVelocityEnv",
        max_episode_steps=500,
        reward_threshold=475.0,
    )
