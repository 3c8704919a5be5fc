"""physai/Walk-v0: a humanoid tracks a velocity command (vx, vy, yaw rate) on a gait clock, under pushes.

Commands are drawn per world from the task YAML's ranges (`commands` in sim_envs/tasks/walk.yaml) at reset
and every `resample_interval_s`, zero with probability `standing_fraction`; the policy reads them through the
contract's `velocity_command` term and the gait clock through `gait_phase` (physai.contract.terms), and the
contract records the trained command ranges (the policy node clamps /cmd_vel into them). Physics runs at
`physics_dt_s` (200 Hz, decimation 4, by default).

Termination: the fall rule (tilt or height). Truncation at `episode_length_s`. Step info (N,) arrays:
`fell`, `pushed`, measured `vx`, `vy` (m/s, IMU frame) and `yaw_rate` (rad/s), the command `cmd_vx`,
`cmd_vy`, `cmd_yaw_rate`, the feet's contact `contact_left`, `contact_right` and `foot_slip_m_s` (mean speed
of the feet in contact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from physai.contract import ObservationTerm, gait_phase, projected_gravity
from physai.control.teleop import CommandTimeline
from physai.envs import rewards
from physai.envs.config import WalkConfig
from physai.envs.gym_env import PhysaiEnv
from physai.envs.pushes import BatchPushes
from physai.envs.task import VecTask
from physai.record.walk_metrics import standing
from physai.robot.state import FallRule, RobotState, tilt_rad

WALK_TERMS = (
    ObservationTerm("base_ang_vel", scale=0.25),
    ObservationTerm("projected_gravity"),
    ObservationTerm("velocity_command", scale=(2.0, 2.0, 0.25)),
    ObservationTerm("gait_phase"),
    ObservationTerm("joint_pos_rel"),
    ObservationTerm("joint_vel", scale=0.05),
    ObservationTerm("last_action"),
)
"""Observation of the walk task: what a real robot measures, the command and the gait clock (no privileged terms)."""

HIP_DEVIATION_JOINTS = ("hip_roll", "hip_yaw")
"""Joints whose name contains one of these are kept near their default by the hip_deviation term."""
SOFT_LIMIT_FRACTION = 0.9
"""The joint_limits term starts at this fraction of each joint's range, centred on the range."""


@dataclass(frozen=True)
class FeetState:
    """The feet quantities the walk rewards read; leading dims `...`, then (n_feet,)."""

    clearance_m: np.ndarray
    """Height of each foot above its standing height (m), (..., n_feet)."""
    velocity_m_s: np.ndarray
    """World-frame velocity of each foot over the last policy step (m/s), (..., n_feet, 3)."""


def walk_reward_terms(
    config: WalkConfig,
    state: RobotState,
    feet: FeetState,
    command: np.ndarray,
    clock_s: np.ndarray,
    action: np.ndarray,
    last_action: np.ndarray,
    start_height_m: float,
    default_pos: np.ndarray,
    effort_limit: np.ndarray,
    soft_limits: tuple[np.ndarray, np.ndarray],
    hip_joints: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(weighted reward terms, fallen) of one step, arrays with leading dims `...` (also used by eval).

    `command` (..., 3) is (vx m/s, vy m/s, yaw rate rad/s); `clock_s` (...) the gait clock time of the state.
    The measured velocity is the IMU-frame linear velocity and the gyro's z rate.
    """
    w, gait = config.rewards, config.gait
    rule = FallRule(config.max_tilt_rad, config.min_height_fraction)
    fell = rule.fallen(tilt_rad(state.base_quat), state.base_pos[..., 2], start_height_m)
    lin, gyro = state.base_lin_vel, state.gyro
    stance = gait_phase(clock_s, gait.frequency_hz) < gait.stance_fraction
    still = standing(command)
    gravity = projected_gravity(state.imu_quat)
    raw = {
        "tracking_lin_vel": rewards.tracking(rewards.squared(lin[..., :2] - command[..., :2]), config.tracking_sigma),
        "tracking_ang_vel": rewards.tracking((gyro[..., 2] - command[..., 2]) ** 2, config.tracking_sigma_yaw),
        "lin_vel_z": lin[..., 2] ** 2,
        "ang_vel_xy": rewards.squared(gyro[..., :2]),
        "orientation": rewards.squared(gravity[..., :2]),
        "base_height": rewards.base_height_error(state.base_pos[..., 2], start_height_m),
        "contact_match": rewards.contact_match(state.foot_contact, stance),
        "swing_height": rewards.swing_height(feet.clearance_m, ~stance, gait.swing_height_m),
        "foot_slip": rewards.foot_slip(feet.velocity_m_s, state.foot_contact),
        "hip_deviation": rewards.joint_deviation(state.joint_pos[..., hip_joints], default_pos[hip_joints]),
        "joint_limits": rewards.joint_limits(state.joint_pos, *soft_limits),
        "action_rate": rewards.action_rate(action, last_action),
        "torque": rewards.torque(state.joint_torque, effort_limit),
        "stand_still": rewards.stand_still(state.joint_pos, default_pos, still),
        "alive": rewards.alive(fell),
        "termination": rewards.termination(fell),
    }
    return {name: getattr(w, name) * value for name, value in raw.items()}, fell


def soft_joint_limits(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[lower, upper] shrunk to SOFT_LIMIT_FRACTION of each range about its centre (rad), (n,) each."""
    centre, half = (lower + upper) / 2.0, (upper - lower) / 2.0 * SOFT_LIMIT_FRACTION
    return centre - half, centre + half


def draw_command(rng: np.random.Generator, config: WalkConfig) -> np.ndarray:
    """One command (vx m/s, vy m/s, yaw rate rad/s): zero with probability standing_fraction, else uniform."""
    c = config.commands
    stand = rng.random() < c.standing_fraction
    drawn = np.array([rng.uniform(*c.vx_m_s), rng.uniform(*c.vy_m_s), rng.uniform(*c.yaw_rate_rad_s)])
    return np.zeros(3) if stand else drawn


class WalkTask(VecTask):
    """Track velocity commands on a gait clock, over N worlds."""

    config_type = WalkConfig
    default_config = "walk"
    default_robot: ClassVar[str] = "testbed_biped"
    default_terms = WALK_TERMS

    def __init__(self, robot: str = "testbed_biped", num_worlds: int = 1, **kwargs: object) -> None:
        """See VecTask; `robot` must have a floating base and two feet."""
        super().__init__(robot, num_worlds, **kwargs)  # type: ignore[arg-type]
        if not self.spec.floating_base or len(self.spec.foot_bodies) != 2:
            raise ValueError(f"Walk needs a floating-base robot with two feet; {self.spec.name} is not one")
        self.config: WalkConfig
        self.start_height_m = float(self.spec.base_height_m)
        self.pushes = BatchPushes(self.sim, self.config.push)
        """The push schedule; `pushes.log` lists the pushes of the current episodes."""
        self.next_command_s = np.full(num_worlds, np.inf)
        """Sim time of each world's next command draw (s), (N,)."""
        self.command_timeline: CommandTimeline | None = None
        """A scripted timeline (sim time since reset) replacing the random commands in every world, or None."""
        self._effort = self.spec.effort_limit
        self._soft_limits = soft_joint_limits(self.spec.lower, self.spec.upper)
        names = self.spec.joint_names
        self._hips = np.array([i for i, n in enumerate(names) if any(k in n for k in HIP_DEVIATION_JOINTS)], int)
        self._feet = np.array([self.sim.model.body(b).id for b in self.spec.foot_bodies], dtype=int)
        self._xpos = self.sim.field("xpos")
        self._foot_height0 = self._xpos[0, self._feet, 2].copy()  # standing pose (BatchSim starts at the default)
        self._foot_prev = self._xpos[:, self._feet].copy()

    @classmethod
    def _contract_options(cls, config: Any) -> dict[str, Any]:
        c = config.commands
        return {
            "gait_frequency_hz": config.gait.frequency_hz,
            "command_ranges": (c.vx_m_s, c.vy_m_s, c.yaw_rate_rad_s),
        }

    def _draw_commands(self, worlds: np.ndarray, now_s: np.ndarray) -> None:
        for k, world in enumerate(worlds):
            self.command[world] = draw_command(self.rngs[world], self.config)
            self.next_command_s[world] = now_s[k] + self.config.commands.resample_interval_s

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        self.pushes.reset(worlds, rngs)
        self._draw_commands(worlds, np.zeros(len(worlds)))
        if self.command_timeline is not None:
            self.command[worlds] = self.command_timeline.at(0.0)
        self._foot_prev[worlds] = self._xpos[worlds][:, self._feet]

    def _before_physics(self) -> None:
        now = self.sim.time_s
        due = np.flatnonzero(now + 1e-9 >= self.next_command_s)
        if len(due):
            self._draw_commands(due, now[due])  # drawn with a timeline too: a world's rng stream stays the same
        if self.command_timeline is not None:
            self.command[:] = [self.command_timeline.at(t + 1e-9) for t in now]
        self.pushes.apply(self.rngs)

    def _evaluate(
        self, state: RobotState, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        foot_pos = self._xpos[:, self._feet]
        feet = FeetState(
            clearance_m=foot_pos[..., 2] - self._foot_height0,
            velocity_m_s=(foot_pos - self._foot_prev) / self.contract.control_dt_s,
        )
        self._foot_prev = foot_pos.copy()
        terms, fell = walk_reward_terms(
            self.config,
            state,
            feet,
            self.command,
            self.clock_s(),
            action,
            self.last_action,
            self.start_height_m,
            self.robot_default,
            self._effort,
            self._soft_limits,
            self._hips,
        )
        contact = state.foot_contact
        in_contact = np.maximum(contact.sum(axis=-1), 1)
        slip = (np.linalg.norm(feet.velocity_m_s, axis=-1) * contact).sum(axis=-1) / in_contact
        info = {
            "fell": fell,
            "pushed": self.pushes.pushed.copy(),
            "vx": state.base_lin_vel[:, 0].copy(),
            "vy": state.base_lin_vel[:, 1].copy(),
            "yaw_rate": state.gyro[:, 2].copy(),
            "cmd_vx": self.command[:, 0].copy(),
            "cmd_vy": self.command[:, 1].copy(),
            "cmd_yaw_rate": self.command[:, 2].copy(),
            "contact_left": contact[:, 0].copy(),
            "contact_right": contact[:, 1].copy(),
            "foot_slip_m_s": slip,
        }
        return terms, fell, info


class WalkEnv(PhysaiEnv):
    """Gymnasium env `physai/Walk-v0` (robot default testbed_biped; also unitree_g1)."""

    task_type = WalkTask
