"""Conversions between ROS messages and physai's arrays (SI units, REP-103 frames). No logic beyond mapping."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from sensor_msgs.msg import Imu, JointState

from physai.robot.state import RobotState

OK, WARN, ERROR, STALE = (bytes([v]) for v in (0, 1, 2, 3))
"""diagnostic_msgs/DiagnosticStatus levels."""


def stamp_from_ns(ns: int) -> Time:
    """builtin_interfaces/Time from integer nanoseconds."""
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def stamp_to_ns(stamp: Time) -> int:
    """Integer nanoseconds of a builtin_interfaces/Time."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def joint_state_msg(
    names: Sequence[str], position: np.ndarray, velocity: np.ndarray, effort: np.ndarray, stamp: Time
) -> JointState:
    """sensor_msgs/JointState (rad, rad/s, N·m) in the given joint order."""
    msg = JointState()
    msg.header.stamp = stamp
    msg.name = list(names)
    msg.position = np.asarray(position, dtype=np.float64).tolist()
    msg.velocity = np.asarray(velocity, dtype=np.float64).tolist()
    msg.effort = np.asarray(effort, dtype=np.float64).tolist()
    return msg


def imu_msg(state: RobotState, stamp: Time, frame_id: str) -> Imu:
    """sensor_msgs/Imu of the IMU site (REP-145: orientation in the world, rates and specific force in the IMU frame)."""
    msg = Imu()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    w, x, y, z = (float(v) for v in state.imu_quat)
    msg.orientation.w, msg.orientation.x, msg.orientation.y, msg.orientation.z = w, x, y, z
    msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = (float(v) for v in state.gyro)
    msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z = (float(v) for v in state.accel)
    return msg


def odom_msg(state: RobotState, stamp: Time, child_frame_id: str) -> Odometry:
    """nav_msgs/Odometry: simulation-truth base pose in `odom`, twist in the child (IMU/base) frame."""
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = "odom"
    msg.child_frame_id = child_frame_id
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = (float(v) for v in state.base_pos)
    q.w, q.x, q.y, q.z = (float(v) for v in state.base_quat)
    t = msg.twist.twist
    t.linear.x, t.linear.y, t.linear.z = (float(v) for v in state.base_lin_vel)
    t.angular.x, t.angular.y, t.angular.z = (float(v) for v in state.gyro)
    return msg


def imu_arrays(msg: Imu) -> tuple[np.ndarray, np.ndarray]:
    """(gyro rad/s (3,), orientation (w, x, y, z) (4,)) of an Imu message."""
    o, g = msg.orientation, msg.angular_velocity
    return np.array([g.x, g.y, g.z]), np.array([o.w, o.x, o.y, o.z])


def diagnostic_status(
    name: str, level: bytes, message: str, values: dict[str, object], hardware_id: str = ""
) -> DiagnosticStatus:
    """One diagnostic_msgs/DiagnosticStatus with key/value pairs (values formatted with str)."""
    status = DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id)
    status.values = [KeyValue(key=str(k), value=str(v)) for k, v in values.items()]
    return status


def diagnostic_array(stamp: Time, statuses: Sequence[DiagnosticStatus]) -> DiagnosticArray:
    """diagnostic_msgs/DiagnosticArray."""
    msg = DiagnosticArray()
    msg.header.stamp = stamp
    msg.status = list(statuses)
    return msg
