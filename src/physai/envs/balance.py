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
from physai.envs.task import VecTask
from physai.robot.state import FallRule, RobotState, tilt_rad
from physai.sim.push import draw_push

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
        self.next_push_s = np.full(num_worlds, np.inf)
        """Sim time of each world's next push (s)."""
        self.pushed = np.zeros(num_worlds, dtype=bool)
        self.push_log: list[tuple[int, float, float, float]] = []
        """(world, time_s, dvx, dvy) of the pushes in the worlds' current episodes (m/s, world frame)."""
        self._effort = self.spec.effort_limit
        self._base_dof = self.sim.layout.base_dof

    def _schedule_push(self, world: int, now_s: float) -> None:
        push = self.config.push
        self.next_push_s[world] = now_s + self.rngs[world].uniform(*push.interval_s) if push.enabled else np.inf

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        restarted = set(worlds.tolist())
        self.push_log = [entry for entry in self.push_log if entry[0] not in restarted]
        for world in worlds:
            self._schedule_push(int(world), 0.0)

    def _before_physics(self) -> None:
        now = self.sim.time_s
        self.pushed = now + 1e-9 >= self.next_push_s
        for world in np.flatnonzero(self.pushed):
            dv = draw_push(self.rngs[world], self.config.push.velocity_m_s)
            self.sim.qvel[world, self._base_dof : self._base_dof + 2] += dv  # world-frame velocity of the free joint
            self.push_log.append((int(world), float(now[world]), float(dv[0]), float(dv[1])))
            self._schedule_push(int(world), float(now[world]))

    def _evaluate(
        self, state: RobotState, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        terms, fell = balance_reward_terms(
            self.config, state, action, self.last_action, self.start_height_m, self._default, self._effort
        )
        info = {
            "fell": fell,
            "base_height_m": state.base_pos[..., 2].copy(),
            "tilt_rad": tilt_rad(state.base_quat),
            "pushed": self.pushed.copy(),
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
