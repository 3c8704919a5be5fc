"""The one function that reads a RobotState (physai.robot.state) from MuJoCo arrays, for Simulator and BatchSim.

`read_state` works on a single world (qpos shape (nq,)) or a batch (shape (nsim, nq)): every field gets the
same leading dimensions as its inputs, so the two simulators cannot disagree on what a state is.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from physai.robot.spec import RobotSpec
from physai.robot.state import RobotState
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
