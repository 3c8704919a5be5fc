"""PhysaiEnv: a Gymnasium env over one world of a VecTask (the N = 1 case of the vectorised task code).

`env.unwrapped.task` is the VecTask; `env.unwrapped.contract` is the PolicyContract the export embeds;
`env.unwrapped.robot_spec` is the RobotSpec (Gymnasium's Env already has a `spec` attribute).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np

from physai.envs.task import OBS_LIMIT, VecTask


class PhysaiEnv(gym.Env[np.ndarray, np.ndarray]):
    """A single-world Gymnasium env. Observation and action are float32 vectors; actions in [−1, 1]."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}
    task_type: ClassVar[type[VecTask]]
    """The VecTask subclass this env runs with one world."""

    def __init__(self, robot: str | None = None, *, render_mode: str | None = None, **task_kwargs: Any) -> None:
        """`robot` (default: the task's) and `task_kwargs` (config, overrides, terms, scene) go to the VecTask."""
        self.task = self.task_type(robot or self.task_type.default_robot, 1, nthread=1, **task_kwargs)
        self.contract = self.task.contract
        self.robot_spec = self.task.spec
        self.config = self.task.config
        n = self.contract.action_dim
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-OBS_LIMIT, OBS_LIMIT, shape=(self.contract.obs_dim,), dtype=np.float32)
        self.render_mode = render_mode
        self._renderer: mujoco.Renderer | None = None
        self._started = False

    @property
    def max_episode_steps(self) -> int:
        """Policy steps per episode (from the task YAML's episode_length_s)."""
        return self.task.max_episode_steps

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; `seed` fixes the start state, randomization, pushes, targets and sensor noise."""
        super().reset(seed=seed, options=options)
        if seed is None and not self._started:
            seed = int(self.np_random.integers(2**31))  # an unseeded first reset still follows gymnasium's rng
        self._started = True
        obs = self.task.reset([0], seeds=[seed])
        return obs[0], {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance one policy step (`contract.control_dt_s`) with `action` in [−1, 1]^action_dim."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        result = self.task.step(np.asarray(action)[None])
        info: dict[str, Any] = {name: value[0].item() for name, value in result.info.items()}
        info["reward_terms"] = {name: float(value[0]) for name, value in result.reward_terms.items()}
        return result.obs[0], float(result.reward[0]), bool(result.terminated[0]), bool(result.truncated[0]), info

    def mjdata(self) -> mujoco.MjData:
        """A forwarded MjData of the world (for rendering or inspection)."""
        return self.task.sim.world_data(0)

    def render(self) -> np.ndarray | None:
        """An RGB frame (480×640) from a camera tracking the base, or the robot's camera for fixed-base robots."""
        if self.render_mode != "rgb_array":
            return None
        from physai.sim.render import frame_camera

        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.task.sim.model, 480, 640)
        self._renderer.update_scene(self.mjdata(), camera=frame_camera(self.task.sim.model, self.robot_spec))
        return self._renderer.render()

    def close(self) -> None:
        """Free the renderer and the task's own resources."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.task.close()
