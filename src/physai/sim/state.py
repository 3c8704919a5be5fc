"""RobotState and the one function that reads it from MuJoCo arrays, for Simulator and BatchSim alike.

`read_state` works on a single world (qpos shape (nq,)) or a batch (shape (nsim, nq)): every field gets the
same leading dimensions as its inputs, so the two simulators cannot disagree on what a state is.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from physai.robot.spec import RobotSpec
from physai.sim.mjcf import SensorSlots, sensor_slots


@dataclass(frozen=True)
class StateLayout:
    """Where a robot's quantities live in qpos / qvel / sensordata of one compiled model."""

    joint_qpos: np.ndarray
    """qpos address per actuated joint, (n_joints,)."""
    joint_dof: np.ndarray
    """qvel address per actuated joint, (n_joints,)."""
    base_qpos: int
    """qpos address of the base free joint (position then quaternion), or -1 for a fixed base."""
    base_dof: int
    """qvel address of the base free joint (linear then angular velocity, world frame), or -1 for a fixed base."""
    sensors: SensorSlots
    """sensordata addresses of the IMU and foot-contact sensors."""
    qpos_gather: np.ndarray
    """qpos indices read in one gather: base position + quaternion (floating base only), then the joints."""
    sensor_gather: np.ndarray
    """sensordata indices read in one gather: gyro, accel, IMU quaternion, linear velocity (if an IMU), feet."""

    @classmethod
    def from_model(cls, model: mujoco.MjModel, spec: RobotSpec) -> StateLayout:
        """Resolve the layout of `spec`'s joints, base and sensors in `model` (built by build_model)."""
        jids = [model.joint(name).id for name in spec.joint_names]
        base = model.body(spec.base_body).id
        free = [
            j
            for j in range(model.njnt)
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and model.jnt_bodyid[j] == base
        ]
        joint_qpos = np.array([model.jnt_qposadr[j] for j in jids])
        base_qpos = int(model.jnt_qposadr[free[0]]) if free else -1
        slots = sensor_slots(model, spec)
        base_part = np.arange(base_qpos, base_qpos + 7) if free else np.zeros(0, int)
        imu_part = [
            a + k
            for a, size in ((slots.gyro, 3), (slots.accel, 3), (slots.imu_quat, 4), (slots.linvel, 3))
            if a >= 0
            for k in range(size)
        ]
        return cls(
            joint_qpos=joint_qpos,
            joint_dof=np.array([model.jnt_dofadr[j] for j in jids]),
            base_qpos=base_qpos,
            base_dof=int(model.jnt_dofadr[free[0]]) if free else -1,
            sensors=slots,
            qpos_gather=np.concatenate([base_part, joint_qpos]).astype(np.int64),
            sensor_gather=np.array([*imu_part, *slots.feet], dtype=np.int64),
        )


@dataclass(frozen=True)
class RobotState:
    """What a robot's sensors and the simulation report. Leading dims `...` are () or (nsim,).

    Frames follow REP-103/REP-145: world z up; IMU quantities in the IMU site frame.
    """

    time_s: np.ndarray
    """Simulation time (s), shape (...)."""
    joint_pos: np.ndarray
    """Joint positions (rad or m), (..., n_joints)."""
    joint_vel: np.ndarray
    """Joint velocities (rad/s or m/s), (..., n_joints)."""
    joint_torque: np.ndarray
    """Torque actually applied by each actuator after clamping (N·m or N), (..., n_joints)."""
    base_pos: np.ndarray
    """Base position in the world (m), (..., 3); zeros for a fixed base (simulation truth)."""
    base_quat: np.ndarray
    """Base orientation in the world (w, x, y, z), (..., 4); identity for a fixed base."""
    base_lin_vel: np.ndarray
    """Linear velocity of the IMU site in the IMU frame (m/s), (..., 3) (simulation truth)."""
    gyro: np.ndarray
    """IMU angular velocity in the IMU frame (rad/s), (..., 3)."""
    accel: np.ndarray
    """IMU specific force in the IMU frame (m/s², +9.81 z when level and still), (..., 3)."""
    imu_quat: np.ndarray
    """IMU orientation in the world (w, x, y, z), (..., 4)."""
    foot_contact: np.ndarray
    """True where a foot body touches anything, (..., n_feet) bool."""


def _constant(lead: tuple[int, ...], value: tuple[float, ...]) -> np.ndarray:
    return np.broadcast_to(np.array(value), (*lead, len(value))).copy()


def read_state(
    layout: StateLayout,
    qpos: np.ndarray,
    qvel: np.ndarray,
    actuator_force: np.ndarray,
    sensordata: np.ndarray,
    time_s: np.ndarray | float,
) -> RobotState:
    """Assemble a RobotState from MuJoCo arrays of shape (..., nq), (..., nv), (..., nu), (..., nsensordata).

    Runs on every control tick: positions and sensors are each read with one gather (a copy), and the
    fields are views of those copies, so the state never aliases MuJoCo's memory.
    """
    lead = qpos.shape[:-1]
    q = qpos[..., layout.qpos_gather]
    sensed = sensordata[..., layout.sensor_gather]
    if layout.base_qpos >= 0:
        base_pos, base_quat, joint_pos = q[..., :3], q[..., 3:7], q[..., 7:]
    else:
        base_pos, base_quat, joint_pos = _constant(lead, (0.0,) * 3), _constant(lead, (1.0, 0.0, 0.0, 0.0)), q
    if layout.sensors.gyro >= 0:
        gyro, accel, imu_quat, lin_vel = sensed[..., 0:3], sensed[..., 3:6], sensed[..., 6:10], sensed[..., 10:13]
        feet = sensed[..., 13:] > 0
    else:
        gyro, accel, lin_vel = (_constant(lead, (0.0,) * 3) for _ in range(3))
        imu_quat = base_quat
        feet = sensed > 0
    return RobotState(
        time_s=np.array(time_s, dtype=np.float64),
        joint_pos=joint_pos,
        joint_vel=qvel[..., layout.joint_dof],
        joint_torque=actuator_force[..., : len(layout.joint_qpos)].copy(),
        base_pos=base_pos,
        base_quat=base_quat,
        base_lin_vel=lin_vel,
        gyro=gyro,
        accel=accel,
        imu_quat=imu_quat,
        foot_contact=feet,
    )


def tilt_rad(quat: np.ndarray) -> np.ndarray:
    """Angle between a body's z axis and world z (rad) from its (w, x, y, z) quaternion, shape (..., 4) → (...)."""
    x, y = quat[..., 1], quat[..., 2]
    return np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0))
