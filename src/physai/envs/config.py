"""Task settings for the physai envs: dataclasses with a docstring per field, loaded from sim_envs/tasks/*.yaml.

    cfg = load_task_config(BalanceConfig, "balance")                       # sim_envs/tasks/balance.yaml
    cfg = load_task_config(BalanceConfig, "balance", {"push": {"enabled": False}})  # nested overrides

Unknown keys, wrong types and bad ranges raise TaskConfigError naming the file, the dotted field, the value
and what was expected. Every field has a default, so a YAML file lists only what it changes.
Units: SI (s, m, m/s, rad); scales are dimensionless multipliers of the nominal model value.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from physai.errors import FieldError
from physai.paths import data_root
from physai.robot.state import FALL
from physai.sim.mjcf import PHYSICS_DT_S


class TaskConfigError(FieldError):
    """A task YAML that cannot be used; the message names the file, the field, the value and what was expected."""


# ---- building blocks ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UniformRandomization:
    """One randomized quantity: sampled uniformly in `range` at every reset when `enabled`."""

    enabled: bool = False
    """Sample this quantity at reset (False: keep the nominal value)."""
    range: tuple[float, float] = (1.0, 1.0)
    """[low, high] of the uniform distribution (unit of the quantity, or a dimensionless scale)."""


@dataclass(frozen=True)
class LatencyRandomization:
    """Action latency: a new policy action reaches the actuators this many physics steps late."""

    enabled: bool = False
    """Delay actions (False: actions take effect at the next physics step)."""
    range: tuple[int, int] = (0, 2)
    """[min, max] delay in physics steps, integers, sampled per episode; max < decimation."""


@dataclass(frozen=True)
class SensorNoise:
    """Additive uniform noise U(−a, a) on the observation inputs (never on the simulation itself)."""

    enabled: bool = False
    """Add noise to the observation inputs."""
    joint_pos_rad: float = 0.01
    """Joint position noise amplitude (rad or m)."""
    joint_vel_rad_s: float = 0.5
    """Joint velocity noise amplitude (rad/s or m/s)."""
    gyro_rad_s: float = 0.1
    """IMU angular velocity noise amplitude (rad/s)."""
    imu_quat: float = 0.02
    """Noise amplitude on each IMU quaternion component (renormalised by projected_gravity)."""
    ee_pos_m: float = 0.002
    """End-effector position noise amplitude (m)."""


@dataclass(frozen=True)
class RandomizationConfig:
    """Domain randomization, each item switchable; every sample comes from the env's seeded np_random."""

    ground_friction: UniformRandomization = UniformRandomization(range=(0.5, 1.25))
    """Sliding friction coefficient of the ground and of the feet (absolute value, not a scale)."""
    link_mass_scale: UniformRandomization = UniformRandomization(range=(0.9, 1.1))
    """Per-body scale of mass and inertia of every robot body."""
    kp_scale: UniformRandomization = UniformRandomization(range=(0.9, 1.1))
    """Per-joint scale of the contract's position gains applied in simulation."""
    kd_scale: UniformRandomization = UniformRandomization(range=(0.8, 1.2))
    """Per-joint scale of the contract's damping gains applied in simulation."""
    effort_scale: UniformRandomization = UniformRandomization(range=(0.85, 1.0))
    """Per-joint scale of the actuator torque limit (motor strength)."""
    action_latency: LatencyRandomization = LatencyRandomization()
    """Delay between a policy action and the actuators."""
    encoder_bias_rad: UniformRandomization = UniformRandomization(range=(-0.02, 0.02))
    """Per-joint constant offset of the measured joint positions (rad), drawn per episode (encoder zero error)."""
    sensor_noise: SensorNoise = SensorNoise()
    """Noise on the observation inputs."""


@dataclass(frozen=True)
class PushConfig:
    """Random horizontal pushes: a velocity impulse added to the floating base."""

    enabled: bool = True
    """Push the robot during episodes."""
    interval_s: tuple[float, float] = (2.0, 4.0)
    """[min, max] time between pushes (s), sampled uniformly after each push and at reset."""
    velocity_m_s: tuple[float, float] = (0.1, 0.5)
    """[min, max] magnitude of the horizontal base velocity change (m/s); direction uniform in [0, 2π)."""


@dataclass(frozen=True)
class BalanceRewardWeights:
    """Weights of the balance reward terms (the sign decides reward or penalty; terms are unweighted ≥ 0)."""

    alive: float = 1.0
    """Per step while not fallen."""
    upright: float = 1.0
    """exp(−|g_xy|²/0.1) of the projected gravity: 1 upright."""
    base_height: float = -50.0
    """Squared error of base height to its start height (m²)."""
    joint_deviation: float = -0.1
    """Σ (q − q_default)² (rad²)."""
    action_rate: float = -0.01
    """Σ (a_t − a_{t−1})² of the raw actions."""
    torque: float = -0.05
    """Σ (τ / τ_max)² of the applied torques."""
    termination: float = -10.0
    """1 on the step the robot falls."""


@dataclass(frozen=True)
class ReachRewardWeights:
    """Weights of the reach reward terms (the sign decides reward or penalty; terms are unweighted ≥ 0)."""

    distance: float = 1.0
    """exp(−d/σ) with d the end-effector-to-target distance (m) and σ = `distance_sigma_m`."""
    success: float = 1.0
    """1 while d ≤ success_tolerance_m."""
    action_rate: float = -0.01
    """Σ (a_t − a_{t−1})² of the raw actions."""


@dataclass(frozen=True)
class CommandConfig:
    """Velocity commands of the walk task, drawn per world from uniform ranges (base frame, REP-103)."""

    vx_m_s: tuple[float, float] = (-0.3, 0.5)
    """[low, high] forward velocity (m/s)."""
    vy_m_s: tuple[float, float] = (-0.3, 0.3)
    """[low, high] lateral velocity, +y to the left (m/s)."""
    yaw_rate_rad_s: tuple[float, float] = (-1.0, 1.0)
    """[low, high] yaw rate, counter-clockwise positive (rad/s)."""
    resample_interval_s: float = 4.0
    """A new command is drawn every this many seconds (and at reset)."""
    standing_fraction: float = 0.1
    """Probability that a drawn command is zero (stand in place)."""


@dataclass(frozen=True)
class GaitConfig:
    """The gait clock the walk policy observes (contract `gait_frequency_hz`) and the swing the rewards ask for."""

    frequency_hz: float = 1.5
    """Steps of one foot per second (Hz); the feet alternate half a period apart."""
    stance_fraction: float = 0.55
    """Part of each foot's period that is stance (phase < stance_fraction)."""
    swing_height_m: float = 0.06
    """Foot clearance asked for in swing (m above its standing height)."""


@dataclass(frozen=True)
class WalkRewardWeights:
    """Weights of the walk reward terms (the sign decides reward or penalty; terms are unweighted ≥ 0)."""

    tracking_lin_vel: float = 1.0
    """exp(−|v_xy − v*_xy|²/σ) of the base velocity, σ = `tracking_sigma`."""
    tracking_ang_vel: float = 0.5
    """exp(−(ω_z − ω*_z)²/σ_yaw) of the yaw rate, σ_yaw = `tracking_sigma_yaw`."""
    lin_vel_z: float = -2.0
    """v_z² of the base (m²/s²)."""
    ang_vel_xy: float = -0.05
    """ω_x² + ω_y² of the base (rad²/s²)."""
    orientation: float = -1.0
    """|g_xy|² of the projected gravity (0 upright)."""
    base_height: float = -10.0
    """Squared error of the base height to its standing height (m²)."""
    contact_match: float = 0.5
    """Feet whose contact matches the gait clock's stance/swing (0, 1 or 2)."""
    swing_height: float = -50.0
    """Σ over swinging feet of (clearance − swing_height_m)² (m²)."""
    foot_slip: float = -0.2
    """Σ over feet in contact of |v_foot|² (m²/s²)."""
    hip_deviation: float = -1.0
    """Σ (q − q_default)² over the hip roll and yaw joints (rad²): legs under the body."""
    joint_limits: float = -5.0
    """Σ of how far joints are beyond 90 % of their range (rad)."""
    action_rate: float = -0.01
    """Σ (a_t − a_{t−1})² of the raw actions."""
    torque: float = -0.01
    """Σ (τ / τ_max)² of the applied torques."""
    stand_still: float = -0.5
    """Σ |q − q_default| while the command is zero (rad)."""
    alive: float = 0.15
    """Per step while not fallen."""
    termination: float = -10.0
    """1 on the step the robot falls."""


# ---- task configs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceConfig:
    """physai/Balance-v0: stand and recover from pushes."""

    episode_length_s: float = 20.0
    """Episode length (s); the env truncates after round(episode_length_s / control_dt_s) steps."""
    control_dt_s: float = 0.02
    """Policy period (s); an integer multiple of the physics period."""
    physics_dt_s: float = PHYSICS_DT_S
    """Physics (PD) period (s); the contract carries it to sim_node and eval (the HIL plant keeps 500 Hz)."""
    action_scale: float | tuple[float, ...] = 0.25
    """Action scale of the contract (rad per unit action): one number or one per joint."""
    reset_joint_noise_rad: float = 0.05
    """Uniform joint noise at reset (rad)."""
    max_tilt_rad: float = FALL.max_tilt_rad
    """The robot has fallen when its base tilts more than this (rad)."""
    min_height_fraction: float = FALL.min_height_fraction
    """The robot has fallen when its base is lower than this fraction of its start height."""
    rewards: BalanceRewardWeights = BalanceRewardWeights()
    """Reward weights."""
    push: PushConfig = PushConfig()
    """Push schedule."""
    randomization: RandomizationConfig = RandomizationConfig()
    """Domain randomization."""


@dataclass(frozen=True)
class ReachConfig:
    """physai/Reach-v0: bring the end-effector site to a sampled target."""

    episode_length_s: float = 5.0
    """Episode length (s); the env truncates after round(episode_length_s / control_dt_s) steps."""
    control_dt_s: float = 0.02
    """Policy period (s); an integer multiple of the physics period."""
    physics_dt_s: float = PHYSICS_DT_S
    """Physics (PD) period (s); the contract carries it to sim_node and eval (the HIL plant keeps 500 Hz)."""
    action_scale: float | tuple[float, ...] = 1.0
    """Action scale of the contract (rad or m per unit action): one number or one per joint."""
    reset_joint_noise_rad: float = 0.05
    """Uniform joint noise at reset (rad or m)."""
    target_low_m: tuple[float, float, float] = (0.25, -0.2, 0.1)
    """Lower corner (x, y, z) of the target box in the base frame (m)."""
    target_high_m: tuple[float, float, float] = (0.5, 0.2, 0.4)
    """Upper corner (x, y, z) of the target box in the base frame (m)."""
    success_tolerance_m: float = 0.02
    """Success when the end-effector-to-target distance is at most this (m)."""
    distance_sigma_m: float = 0.1
    """Length scale σ of the distance shaping exp(−d/σ) (m)."""
    terminate_on_success: bool = False
    """End the episode (terminated) on the first success."""
    target_camera: str = ""
    """MJCF camera whose image gives the policy its target (scene marker_cube: the cube's marker is put on the
    sampled target and its detected centre is observed); empty: the policy observes the sampled target."""
    camera_width: int = 640
    """Width of the target camera's image (pixels)."""
    camera_height: int = 480
    """Height of the target camera's image (pixels)."""
    image_noise: str = ""
    """Lighting and camera noise on the target camera's images, "brightness=LO:HI,blur=LO:HI,noise=STD" (gain,
    Gaussian blur sigma px, sensor noise grey levels; physai.vision.ImageNoise), drawn per image; "" = none."""
    rewards: ReachRewardWeights = ReachRewardWeights()
    """Reward weights."""
    randomization: RandomizationConfig = RandomizationConfig()
    """Domain randomization (ground friction has no effect on the arm)."""


@dataclass(frozen=True)
class WalkConfig:
    """physai/Walk-v0: track a velocity command (vx, vy, yaw rate) with a gait clock, under pushes."""

    episode_length_s: float = 20.0
    """Episode length (s); the env truncates after round(episode_length_s / control_dt_s) steps."""
    control_dt_s: float = 0.02
    """Policy period (s); an integer multiple of the physics period."""
    physics_dt_s: float = 0.005
    """Physics (PD) period (s): 200 Hz with decimation 4, the rate the anchors train walking at."""
    action_scale: float | tuple[float, ...] = 0.25
    """Action scale of the contract (rad per unit action): one number or one per joint."""
    reset_joint_noise_rad: float = 0.05
    """Uniform joint noise at reset (rad)."""
    max_tilt_rad: float = FALL.max_tilt_rad
    """The robot has fallen when its base tilts more than this (rad)."""
    min_height_fraction: float = FALL.min_height_fraction
    """The robot has fallen when its base is lower than this fraction of its start height."""
    driven_joints: tuple[str, ...] = ()
    """Name substrings of the joints the policy drives (e.g. [hip, knee, ankle]: a G1's legs); empty: all.
    The others are held at their default pose with their robot.yaml gains (the contract's held_joints)."""
    tracking_sigma: float = 0.1
    """σ of the linear-velocity tracking kernel exp(−|err|²/σ) ((m/s)²)."""
    tracking_sigma_yaw: float = 0.5
    """σ of the yaw-rate tracking kernel ((rad/s)²): wide enough that a 1 rad/s error still has a gradient."""
    commands: CommandConfig = CommandConfig()
    """Velocity command ranges and resampling."""
    gait: GaitConfig = GaitConfig()
    """Gait clock and swing."""
    rewards: WalkRewardWeights = WalkRewardWeights()
    """Reward weights."""
    push: PushConfig = PushConfig()
    """Push schedule."""
    randomization: RandomizationConfig = RandomizationConfig()
    """Domain randomization."""


# ---- loading ----------------------------------------------------------------------------------------------
C = TypeVar("C")


def tasks_dir() -> Path:
    """Folder with the task YAML files (sim_envs/tasks)."""
    return data_root() / "sim_envs" / "tasks"


def load_task_config(cls: type[C], name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> C:
    """Load a task YAML (name under sim_envs/tasks or a path) into `cls`, then apply nested `overrides`."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = tasks_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"task config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise TaskConfigError(str(path), "<document>", str(err).splitlines()[0], "valid YAML") from err
    source = str(path)
    if overrides:
        data = merge_overrides(data, overrides)
        source += " (+ overrides)"
    return config_from_dict(cls, data, source)


def config_from_dict(cls: type[C], data: Any, source: str = "<dict>", prefix: str = "") -> C:
    """Build the dataclass `cls` from plain data, checking keys, types and ranges field by field."""
    if not isinstance(data, Mapping):
        raise TaskConfigError(source, prefix or "<document>", data, "a mapping")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise TaskConfigError(source, f"{prefix}{key}", data[key], f"no such key (allowed: {', '.join(known)})")
    values = {key: _convert(hints[key], data[key], source, f"{prefix}{key}") for key in data}
    config = cls(**values)
    _check(config, source, prefix)
    return config


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain data of a config (lists for tuples), e.g. to write the resolved config next to a run."""
    out = dataclasses.asdict(config)

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return list(value) if isinstance(value, tuple) else value

    return plain(out)


def merge_overrides(base: Any, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `base` with nested `overrides` applied (mappings merge, other values replace)."""
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out


def _number(value: Any, source: str, where: str, kind: type) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TaskConfigError(source, where, value, "an integer" if kind is int else "a number")
    if kind is int and not float(value).is_integer():
        raise TaskConfigError(source, where, value, "an integer")
    return kind(value)


def _convert(hint: Any, value: Any, source: str, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return config_from_dict(hint, value, source, f"{where}.")
    if hint is bool:
        if not isinstance(value, bool):
            raise TaskConfigError(source, where, value, "true or false")
        return value
    if hint in (int, float):
        return _number(value, source, where, hint)
    if hint is str:
        if not isinstance(value, str):
            raise TaskConfigError(source, where, value, "a string")
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise TaskConfigError(source, where, value, "a list")
        if args[-1] is not Ellipsis and len(value) != len(args):
            raise TaskConfigError(source, where, value, f"a list of {len(args)} numbers")
        kind = args[0]
        if kind is str:
            bad = [v for v in value if not isinstance(v, str) or not v]
            if bad:
                raise TaskConfigError(source, where, value, "a list of non-empty strings")
            return tuple(value)
        return tuple(_number(v, source, f"{where}[{i}]", kind) for i, v in enumerate(value))
    if args and float in args:  # float | tuple[float, ...]
        if isinstance(value, (list, tuple)):
            return _convert(tuple[float, ...], value, source, where)
        return _number(value, source, where, float)
    raise TaskConfigError(source, where, value, f"a value of type {hint}")  # pragma: no cover


def _check(config: Any, source: str, prefix: str) -> None:
    """Range checks: [low, high] pairs ordered, lengths and periods positive."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        where = f"{prefix}{f.name}"
        if (
            f.name in ("range", "interval_s", "velocity_m_s", "vx_m_s", "vy_m_s", "yaw_rate_rad_s")
            and value[0] > value[1]
        ):
            raise TaskConfigError(source, where, list(value), "[low, high] with low ≤ high")
        positive = ("episode_length_s", "control_dt_s", "physics_dt_s", "distance_sigma_m", "success_tolerance_m")
        if (
            f.name in (*positive, "tracking_sigma", "tracking_sigma_yaw", "resample_interval_s", "frequency_hz")
            and value <= 0
        ):
            raise TaskConfigError(source, where, value, "a number > 0")
    fractions = ("standing_fraction", "stance_fraction")
    for name in fractions:
        if hasattr(config, name) and not 0.0 <= getattr(config, name) <= 1.0:
            raise TaskConfigError(source, f"{prefix}{name}", getattr(config, name), "a fraction in [0, 1]")
    if isinstance(config, LatencyRandomization) and config.range[0] < 0:
        raise TaskConfigError(source, f"{prefix}range", list(config.range), "delays ≥ 0 physics steps")
    if isinstance(config, ReachConfig) and any(
        lo > hi for lo, hi in zip(config.target_low_m, config.target_high_m, strict=True)
    ):
        raise TaskConfigError(source, f"{prefix}target_high_m", list(config.target_high_m), "≥ target_low_m per axis")


__all__ = [
    "BalanceConfig",
    "BalanceRewardWeights",
    "CommandConfig",
    "GaitConfig",
    "LatencyRandomization",
    "PushConfig",
    "RandomizationConfig",
    "ReachConfig",
    "ReachRewardWeights",
    "SensorNoise",
    "TaskConfigError",
    "UniformRandomization",
    "WalkConfig",
    "WalkRewardWeights",
    "config_from_dict",
    "config_to_dict",
    "load_task_config",
]
