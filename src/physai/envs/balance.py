"""physai/Balance-v0: a humanoid stands still (zero velocity command) and recovers from random pushes.

Termination: base tilt > `max_tilt_rad` or base height < `min_height_fraction` × start height. Truncation at
`episode_length_s`. Pushes add a random horizontal velocity to the base at random intervals (`push` in
sim_envs/tasks/balance.yaml); `push_log` lists (time_s, dvx, dvy) of this episode's pushes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from physai.contract import LOCOMOTION_TERMS, ObservationTerm, projected_gravity
from physai.envs import rewards
from physai.envs.base import PhysaiEnv
from physai.envs.config import BalanceConfig, load_task_config
from physai.sim import RobotState
from physai.sim.state import tilt_rad


class BalanceEnv(PhysaiEnv):
    """Stand and recover from pushes. Observation: the contract's terms (default LOCOMOTION_TERMS)."""

    def __init__(
        self,
        robot: str = "testbed_biped",
        *,
        config: BalanceConfig | str | Path = "balance",
        overrides: Mapping[str, Any] | None = None,
        terms: Sequence[ObservationTerm | str] = LOCOMOTION_TERMS,
        scene: str = "flat",
    ) -> None:
        """`config`: a BalanceConfig, a task name under sim_envs/tasks or a YAML path; `overrides`: nested dict."""
        if not isinstance(config, BalanceConfig):
            config = load_task_config(BalanceConfig, config, overrides)
        elif overrides:
            raise ValueError("overrides apply to a YAML config; pass a modified BalanceConfig instead")
        self.config = config
        super().__init__(
            robot,
            scene=scene,
            terms=terms,
            control_dt_s=config.control_dt_s,
            action_scale=config.action_scale,
            episode_length_s=config.episode_length_s,
            reset_joint_noise_rad=config.reset_joint_noise_rad,
            randomization=config.randomization,
        )
        if not self.robot_spec.floating_base:
            raise ValueError(f"Balance needs a floating-base robot; {self.robot_spec.name} has a fixed base")
        self.start_height_m = float(self.robot_spec.base_height_m)
        self.push_log: list[tuple[float, float, float]] = []
        self.next_push_s = np.inf
        self._effort = self.robot_spec.effort_limit
        model = self.sim.model
        self._base_dof = int(model.jnt_dofadr[model.body(self.robot_spec.base_body).jntadr[0]])

    def _schedule_push(self, now_s: float) -> None:
        push = self.config.push
        self.next_push_s = now_s + float(self.np_random.uniform(*push.interval_s)) if push.enabled else np.inf

    def _task_reset(self, rng: np.random.Generator) -> None:
        self.push_log = []
        self._schedule_push(0.0)

    def _before_physics(self) -> None:
        now = float(self.sim.data.time)
        if now + 1e-9 < self.next_push_s:
            return
        push = self.config.push
        speed = float(self.np_random.uniform(*push.velocity_m_s))
        heading = float(self.np_random.uniform(0.0, 2.0 * np.pi))
        dv = speed * np.array([np.cos(heading), np.sin(heading)])
        self.sim.data.qvel[self._base_dof : self._base_dof + 2] += dv  # world-frame linear velocity of the free joint
        self.push_log.append((now, float(dv[0]), float(dv[1])))
        self._schedule_push(now)

    def fallen(self, state: RobotState) -> bool:
        """True when the base tilts past `max_tilt_rad` or drops below `min_height_fraction` of its start height."""
        too_low = state.base_pos[2] < self.config.min_height_fraction * self.start_height_m
        return bool(tilt_rad(state.base_quat) > self.config.max_tilt_rad or too_low)

    def _evaluate(self, state: RobotState, action: np.ndarray) -> tuple[dict[str, float], bool, dict[str, Any]]:
        w = self.config.rewards
        fell = self.fallen(state)
        raw = {
            "alive": rewards.alive(fell),
            "upright": rewards.upright(projected_gravity(state.imu_quat)),
            "base_height": rewards.base_height_error(float(state.base_pos[2]), self.start_height_m),
            "joint_deviation": rewards.joint_deviation(state.joint_pos, self._default),
            "action_rate": rewards.action_rate(action, self.last_action),
            "torque": rewards.torque(state.joint_torque, self._effort),
            "termination": rewards.termination(fell),
        }
        terms = {name: getattr(w, name) * value for name, value in raw.items()}
        info = {"base_height_m": float(state.base_pos[2]), "tilt_rad": float(tilt_rad(state.base_quat))}
        return terms, fell, info
