"""Domain randomization per world of a BatchSim, and sensor noise, each world drawing from its own rng.

`BatchRandomizer` remembers the nominal model values once; at each reset of some worlds it restores their
rows and draws new values for the enabled items, always in the same order, so a world's seed fixes its whole
episode whether it runs alone (the Gymnasium env) or among others (the batched VecEnv).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from physai.envs.config import RandomizationConfig, SensorNoise, UniformRandomization
from physai.sim import BatchSim


@dataclass
class EpisodeSamples:
    """What was drawn for each world's current episode; leading dim (num_worlds,)."""

    ground_friction: np.ndarray
    """Sliding friction of ground and feet, (N,); NaN where not randomized."""
    kp_scale: np.ndarray
    """Scale of the contract kp applied in simulation, (N, n_joints)."""
    kd_scale: np.ndarray
    """Scale of the contract kd applied in simulation, (N, n_joints)."""
    effort_scale: np.ndarray
    """Scale of the actuator torque limits (motor strength), (N, n_joints)."""
    latency_steps: np.ndarray
    """Action delay (physics steps), (N,) int."""
    encoder_bias_rad: np.ndarray
    """Constant offset added to each measured joint position (rad), (N, n_joints); zeros when disabled."""


def _draw(item: UniformRandomization, rng: np.random.Generator, size: int) -> np.ndarray:
    if not item.enabled:
        return np.ones(size)
    return rng.uniform(item.range[0], item.range[1], size=size)


class BatchRandomizer:
    """Randomizes friction, link masses/inertias and actuator effort limits of each world of a BatchSim."""

    def __init__(self, sim: BatchSim, config: RandomizationConfig) -> None:
        self.sim, self.config = sim, config
        model, spec, n, nsim = sim.model, sim.spec, sim.spec.n_joints, sim.nsim
        feet = {model.body(name).id for name in spec.foot_bodies}
        self._ground_geoms = np.array(
            [g for g in range(model.ngeom) if model.geom_bodyid[g] == 0 or model.geom_bodyid[g] in feet], dtype=int
        )
        self._robot_bodies = np.array([b for b in range(1, model.nbody) if model.body_mass[b] > 0], dtype=int)
        self._force0 = model.actuator_forcerange[:n].copy()
        self._mass0, self._inertia0 = model.body_mass.copy(), model.body_inertia.copy()
        c = config
        self._friction = sim.batch.expand("geom_friction") if c.ground_friction.enabled else None
        self._mass = sim.batch.expand("body_mass") if c.link_mass_scale.enabled else None
        self._inertia = sim.batch.expand("body_inertia") if c.link_mass_scale.enabled else None
        self._force = sim.batch.expand("actuator_forcerange") if c.effort_scale.enabled else None
        self.samples = EpisodeSamples(
            ground_friction=np.full(nsim, np.nan),
            kp_scale=np.ones((nsim, n)),
            kd_scale=np.ones((nsim, n)),
            effort_scale=np.ones((nsim, n)),
            latency_steps=np.zeros(nsim, dtype=np.int64),
            encoder_bias_rad=np.zeros((nsim, n)),
        )

    def sample(self, worlds: Sequence[int], rngs: Sequence[np.random.Generator]) -> None:
        """Draw and apply new values for `worlds`, world k from rngs[k]. Call before resetting their state."""
        cfg, s, n = self.config, self.samples, self.sim.spec.n_joints
        for world, rng in zip(worlds, rngs, strict=True):
            if self._friction is not None:
                s.ground_friction[world] = rng.uniform(*cfg.ground_friction.range)
                self._friction[world, self._ground_geoms, 0] = s.ground_friction[world]
            if self._mass is not None and self._inertia is not None:
                scale = rng.uniform(*cfg.link_mass_scale.range, size=len(self._robot_bodies))
                self._mass[world, self._robot_bodies] = self._mass0[self._robot_bodies] * scale
                self._inertia[world, self._robot_bodies] = self._inertia0[self._robot_bodies] * scale[:, None]
            s.kp_scale[world], s.kd_scale[world] = _draw(cfg.kp_scale, rng, n), _draw(cfg.kd_scale, rng, n)
            s.effort_scale[world] = _draw(cfg.effort_scale, rng, n)
            if self._force is not None:
                self._force[world, :n] = self._force0 * s.effort_scale[world][:, None]
            if cfg.action_latency.enabled:
                s.latency_steps[world] = rng.integers(cfg.action_latency.range[0], cfg.action_latency.range[1] + 1)
            if cfg.encoder_bias_rad.enabled:  # drawn last, so configs without it keep their seeded episodes
                s.encoder_bias_rad[world] = rng.uniform(*cfg.encoder_bias_rad.range, size=n)
        if self._mass is not None:
            self.sim.batch.set_const(np.asarray(worlds, dtype=np.int64))


@dataclass(frozen=True)
class ObservationInputs:
    """What the contract's observation terms read (see physai.contract.terms); leading dims `...`."""

    joint_pos: np.ndarray
    """Joint positions (rad or m), (..., n_joints)."""
    joint_vel: np.ndarray
    """Joint velocities (rad/s or m/s), (..., n_joints)."""
    gyro: np.ndarray
    """IMU angular velocity in the IMU frame (rad/s), (..., 3)."""
    imu_quat: np.ndarray
    """IMU orientation (w, x, y, z), (..., 4)."""
    base_lin_vel: np.ndarray
    """Linear velocity in the IMU frame (m/s), simulation truth, (..., 3)."""
    ee_pos: np.ndarray | None = None
    """End-effector position relative to the base, base frame (m), (..., 3), or None."""
    target_pos: np.ndarray | None = None
    """Reaching target relative to the base, base frame (m), (..., 3), or None."""


_NOISY_FIELDS = (
    ("joint_pos", "joint_pos_rad"),
    ("joint_vel", "joint_vel_rad_s"),
    ("gyro", "gyro_rad_s"),
    ("imu_quat", "imu_quat"),
    ("ee_pos", "ee_pos_m"),
)


def add_sensor_noise(
    inputs: ObservationInputs, noise: SensorNoise, rngs: Sequence[np.random.Generator]
) -> ObservationInputs:
    """A copy of batched `inputs` (leading (len(rngs),)) with uniform noise on the measured quantities.

    World k draws one uniform vector from rngs[k] per call, so its noise does not depend on other worlds.
    """
    if not noise.enabled:
        return inputs
    fields = [(name, getattr(noise, amp)) for name, amp in _NOISY_FIELDS if getattr(inputs, name) is not None]
    sizes = [getattr(inputs, name).shape[-1] for name, _ in fields]
    draws = np.stack([rng.random(sum(sizes)) for rng in rngs])  # (N, total)
    out, start = {}, 0
    for (name, amplitude), size in zip(fields, sizes, strict=True):
        unit = draws[:, start : start + size]
        out[name] = getattr(inputs, name) + (-amplitude + (2.0 * amplitude) * unit)
        start += size
    return dataclasses.replace(inputs, **out)
