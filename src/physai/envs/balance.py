"""physai/Balance-v0: a humanoid stands still (zero velocity command) and recovers from random pushes.

Termination: base tilt > `max_tilt_rad` or base height < `min_height_fraction` × start height. Truncation at
`episode_length_s`. Pushes add a random horizontal velocity to the base at random intervals (`push` in
sim_envs/tasks/balance.yaml). Step info: `fell`, `base_height_m`, `tilt_rad`, `pushed` (bool, this step).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from physai.contract import ObservationTerm, projected_gravity
from physai.envs import rewards
from physai.envs.config import BalanceConfig
from physai.envs.gym_env import PhysaiEnv
from physai.envs.pushes import BatchPushes
from physai.envs.task import VecTask
from physai.robot.state import FallRule, RobotState, tilt_rad

BALANCE_TERMS = (
    ObservationTerm("base_ang_vel", scale=0.25),
    ObservationTerm("projected_gravity"),
    ObservationTerm("velocity_command"),
    ObservationTerm("joint_pos_rel"),
    ObservationTerm("joint_vel", scale=0.05),
    ObservationTerm("last_action"),
)
"""Observation of the balance task (scales as in common legged-robot setups)."""


class BalanceTask(VecTask):
    """Stand and recover from pushes, over N worlds."""

    config_type = BalanceConfig
    default_config = "balance"
    default_robot: ClassVar[str] = "testbed_biped"
    default_terms = BALANCE_TERMS

    def __init__(self, robot: str = "testbed_biped", num_worlds: int = 1, **kwargs: object) -> None:
        """See VecTask; `robot` must have a floating base."""
        super().__init__(robot, num_worlds, **kwargs)  # type: ignore[arg-type]
        if not self.spec.floating_base:
            raise ValueError(f"Balance needs a floating-base robot; {self.spec.name} has a fixed base")
        self.config: BalanceConfig
        self.start_height_m = float(self.spec.base_height_m)
        self.pushes = BatchPushes(self.sim, self.config.push)
        """The push schedule; `pushes.log` lists the pushes of the current episodes."""
        self._effort = self.spec.effort_limit

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        self.pushes.reset(worlds, rngs)

    def _before_physics(self) -> None:
        self.pushes.apply(self.rngs)

    def _evaluate(
        self, state: RobotState, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        terms, fell = balance_reward_terms(
            self.config, state, action, self.last_action, self.start_height_m, self.robot_default, self._effort
        )
        info = {
            "fell": fell,
            "base_height_m": state.base_pos[..., 2].copy(),
            "tilt_rad": tilt_rad(state.base_quat),
            "pushed": self.pushes.pushed.copy(),
        }
        return terms, fell, info


def balance_reward_terms(
    config: BalanceConfig,
    state: RobotState,
    action: np.ndarray,
    last_action: np.ndarray,
    start_height_m: float,
    default_pos: np.ndarray,
    effort_limit: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(weighted reward terms, fallen) of one step; arrays with leading dims `...` (also used by sim2sim).

    `state` needs base_pos, base_quat, imu_quat, joint_pos and joint_torque; actions are the clipped policy
    outputs of this and the previous step.
    """
    w = config.rewards
    rule = FallRule(config.max_tilt_rad, config.min_height_fraction)
    fell = rule.fallen(tilt_rad(state.base_quat), state.base_pos[..., 2], start_height_m)
    raw = {
        "alive": rewards.alive(fell),
        "upright": rewards.upright(projected_gravity(state.imu_quat)),
        "base_height": rewards.base_height_error(state.base_pos[..., 2], start_height_m),
        "joint_deviation": rewards.joint_deviation(state.joint_pos, default_pos),
        "action_rate": rewards.action_rate(action, last_action),
        "torque": rewards.torque(state.joint_torque, effort_limit),
        "termination": rewards.termination(fell),
    }
    return {name: getattr(w, name) * value for name, value in raw.items()}, fell


class BalanceEnv(PhysaiEnv):
    """Gymnasium env `physai/Balance-v0` (robot default testbed_biped; also unitree_g1)."""

    task_type = BalanceTask
