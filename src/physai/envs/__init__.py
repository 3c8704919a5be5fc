"""Gymnasium envs for physai tasks, registered once as "physai/<Task>-v0".

    import gymnasium as gym
    import physai.envs  # registers the ids
    env = gym.make("physai/Balance-v0", robot="unitree_g1")      # config="balance" (sim_envs/tasks/balance.yaml)
    env = gym.make("physai/Reach-v0", overrides={"episode_length_s": 3.0})
    env = gym.make("physai/Walk-v0")                             # velocity tracking on /cmd_vel-style commands
    env.unwrapped.contract                                       # the PolicyContract the export embeds
    task = BalanceTask("testbed_biped", num_worlds=64)           # the same task, vectorised (physai.rl.BatchVecEnv)

Truncation comes from the task YAML's `episode_length_s` (the ids have no max_episode_steps).
"""

import gymnasium

from physai.envs.balance import BalanceEnv, BalanceTask
from physai.envs.config import BalanceConfig, ReachConfig, TaskConfigError, WalkConfig, load_task_config
from physai.envs.gym_env import PhysaiEnv
from physai.envs.reach import ReachEnv, ReachTask
from physai.envs.task import StepResult, VecTask
from physai.envs.walk import WalkEnv, WalkTask

TASK_TYPES: dict[str, type[VecTask]] = {
    "physai/Balance-v0": BalanceTask,
    "physai/Reach-v0": ReachTask,
    "physai/Walk-v0": WalkTask,
}
"""The vectorised task behind each env id (what physai.rl.BatchVecEnv runs)."""
ENV_IDS = tuple(TASK_TYPES)
"""Every env id this package registers."""

if "physai/Balance-v0" not in gymnasium.registry:
    gymnasium.register(id="physai/Balance-v0", entry_point="physai.envs.balance:BalanceEnv", max_episode_steps=None)
if "physai/Reach-v0" not in gymnasium.registry:
    gymnasium.register(id="physai/Reach-v0", entry_point="physai.envs.reach:ReachEnv", max_episode_steps=None)
if "physai/Walk-v0" not in gymnasium.registry:
    gymnasium.register(id="physai/Walk-v0", entry_point="physai.envs.walk:WalkEnv", max_episode_steps=None)

__all__ = [
    "ENV_IDS",
    "TASK_TYPES",
    "BalanceConfig",
    "BalanceEnv",
    "BalanceTask",
    "PhysaiEnv",
    "ReachConfig",
    "ReachEnv",
    "ReachTask",
    "StepResult",
    "TaskConfigError",
    "VecTask",
    "WalkConfig",
    "WalkEnv",
    "WalkTask",
    "load_task_config",
]
