"""Domain randomization of one Simulator's model and of the observation inputs, seeded by the caller's rng.

`ModelRandomizer` remembers the nominal model values once and, at every reset, restores them and draws new
ones for the enabled items (always in the same order, so a seed fixes the whole episode).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import mujoco
import numpy as np

from physai.envs.config import RandomizationConfig, SensorNoise, UniformRandomization
from physai.sim import Simulator


@dataclass(frozen=True)
class EpisodeSample:
    """What was drawn for one episode (all arrays in joint order, shape (n_joints,))."""

    ground_friction: float | None
    """Sliding friction of ground and feet, or None when not randomized."""
    kp_scale: np.ndarray
    """Scale of the contract kp applied in simulation."""
    kd_scale: np.ndarray
    """Scale of the contract kd applied in simulation."""
    effort_scale: np.ndarray
    """Scale of the actuator torque limits."""
    latency_steps: int
    """Action delay (physics steps)."""


def _draw(item: UniformRandomization, rng: np.random.Generator, size: int) -> np.ndarray:
    if not item.enabled:
        return np.ones(size)
    return rng.uniform(item.range[0], item.range[1], size=size)


class ModelRandomizer:
    """Randomizes friction, link masses and actuator effort limits of `sim.model` in place."""

    def __init__(self, sim: Simulator, config: RandomizationConfig) -> None:
        self.sim, self.config = sim, config
        model = sim.model
        n = sim.spec.n_joints
        self._friction0 = model.geom_friction[:, 0].copy()
        self._mass0 = model.body_mass.copy()
        self._inertia0 = model.body_inertia.copy()
        self._force0 = model.actuator_forcerange[:n].copy()
        feet = {model.body(name).id for name in sim.spec.foot_bodies}
        self._ground_geoms = np.array(
            [g for g in range(model.ngeom) if model.geom_bodyid[g] == 0 or model.geom_bodyid[g] in feet], dtype=int
        )
        self._robot_bodies = np.array([b for b in range(1, model.nbody) if model.body_mass[b] > 0], dtype=int)

    def sample(self, rng: np.random.Generator) -> EpisodeSample:
        """Restore the nominal model, then draw and apply this episode's values. Call before `sim.reset`."""
        cfg, model, n = self.config, self.sim.model, self.sim.spec.n_joints
        model.geom_friction[:, 0] = self._friction0
        model.body_mass[:] = self._mass0
        model.body_inertia[:] = self._inertia0
        friction = None
        if cfg.ground_friction.enabled:
            friction = float(rng.uniform(*cfg.ground_friction.range))
            model.geom_friction[self._ground_geoms, 0] = friction
        if cfg.link_mass_scale.enabled:
            scale = rng.uniform(*cfg.link_mass_scale.range, size=len(self._robot_bodies))
            model.body_mass[self._robot_bodies] = self._mass0[self._robot_bodies] * scale
            model.body_inertia[self._robot_bodies] = self._inertia0[self._robot_bodies] * scale[:, None]
        kp, kd = _draw(cfg.kp_scale, rng, n), _draw(cfg.kd_scale, rng, n)
        effort = _draw(cfg.effort_scale, rng, n)
        model.actuator_forcerange[:n] = self._force0 * effort[:, None]
        latency = 0
        if cfg.action_latency.enabled:
            latency = int(rng.integers(cfg.action_latency.range[0], cfg.action_latency.range[1] + 1))
        mujoco.mj_setConst(model, self.sim.data)
        return EpisodeSample(friction, kp, kd, effort, latency)


@dataclass(frozen=True)
class ObservationInputs:
    """What the contract's observation terms read (see physai.contract.terms); shapes (n_joints,) or (3,)/(4,)."""

    joint_pos: np.ndarray
    """Joint positions (rad or m)."""
    joint_vel: np.ndarray
    """Joint velocities (rad/s or m/s)."""
    gyro: np.ndarray
    """IMU angular velocity in the IMU frame (rad/s)."""
    imu_quat: np.ndarray
    """IMU orientation (w, x, y, z)."""
    base_lin_vel: np.ndarray
    """Linear velocity in the IMU frame (m/s), simulation truth."""
    ee_pos: np.ndarray | None = None
    """End-effector position relative to the base, base frame (m), or None."""
    target_pos: np.ndarray | None = None
    """Reaching target relative to the base, base frame (m), or None."""


def add_sensor_noise(inputs: ObservationInputs, noise: SensorNoise, rng: np.random.Generator) -> ObservationInputs:
    """A copy of `inputs` with uniform noise on the measured quantities (not on the target)."""
    if not noise.enabled:
        return inputs

    def jitter(value: np.ndarray | None, amplitude: float) -> np.ndarray | None:
        if value is None:
            return None
        return value + rng.uniform(-amplitude, amplitude, size=np.shape(value))

    return dataclasses.replace(
        inputs,
        joint_pos=jitter(inputs.joint_pos, noise.joint_pos_rad),
        joint_vel=jitter(inputs.joint_vel, noise.joint_vel_rad_s),
        gyro=jitter(inputs.gyro, noise.gyro_rad_s),
        imu_quat=jitter(inputs.imu_quat, noise.imu_quat),
        ee_pos=jitter(inputs.ee_pos, noise.ee_pos_m),
    )
