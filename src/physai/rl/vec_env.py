"""BatchVecEnv: an SB3 VecEnv over one VecTask, so rollouts step N worlds per Python call on MuJoCo's threads.

Semantics match SB3's DummyVecEnv over the Gymnasium env of the same task (tested transition for
transition): world i is seeded with seed + i by `seed(seed)`, finished worlds are reset automatically, the
last observation of a finished episode is in `infos[i]["terminal_observation"]`, and
`infos[i]["TimeLimit.truncated"]` marks truncation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from physai.envs.task import OBS_LIMIT, VecTask


class BatchVecEnv(VecEnv):
    """Vectorised env of `task.num_worlds` worlds. Observations float32 (N, obs_dim); actions (N, action_dim)."""

    def __init__(self, task: VecTask) -> None:
        self.task = task
        n, obs_dim = task.contract.action_dim, task.contract.obs_dim
        observation_space = gym.spaces.Box(-OBS_LIMIT, OBS_LIMIT, shape=(obs_dim,), dtype=np.float32)
        action_space = gym.spaces.Box(-1.0, 1.0, shape=(n,), dtype=np.float32)
        super().__init__(task.num_worlds, observation_space, action_space)
        self._actions = np.zeros((task.num_worlds, n), dtype=np.float32)
        self._worlds = np.arange(task.num_worlds)

    @property
    def contract(self) -> Any:
        """The task's PolicyContract (what export embeds)."""
        return self.task.contract

    def reset(self) -> VecEnvObs:
        """Reset every world (with the seeds given to `seed()`, if any) and return their observations."""
        obs = self.task.reset(self._worlds, seeds=list(self._seeds))
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store actions (N, action_dim) for `step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every world; reset the finished ones and return (obs, rewards, dones, infos)."""
        result = self.task.step(self._actions)
        obs = result.obs
        dones = result.terminated | result.truncated
        infos: list[dict[str, Any]] = [
            {
                "reward_terms": {name: float(value[i]) for name, value in result.reward_terms.items()},
                **{name: value[i].item() for name, value in result.info.items()},
                "TimeLimit.truncated": bool(result.truncated[i] and not result.terminated[i]),
            }
            for i in range(self.num_envs)
        ]
        finished = np.flatnonzero(dones)
        if len(finished):
            for i in finished:
                infos[i]["terminal_observation"] = obs[i].copy()
            obs[finished] = self.task.reset(finished)
        return obs, result.reward.astype(np.float32), dones, infos

    def close(self) -> None:
        """Free the task's resources (one process, no subprocesses)."""
        self.task.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The task's attribute, once per selected world (the worlds share one task)."""
        return [getattr(self.task, attr_name) for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute on the shared task."""
        setattr(self.task, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a task method once per selected world."""
        return [getattr(self.task, method_name)(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Worlds are not gym envs, so never wrapped."""
        return [False for _ in self._indices(indices)]

    def _indices(self, indices: VecEnvIndices) -> Sequence[int] | Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices
