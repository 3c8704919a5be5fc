"""QoS profiles of the physai topic contract (DESIGN.md, "ROS 2 interface")."""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

SENSOR = qos_profile_sensor_data
"""/joint_states, /imu/data, /odom, camera: best effort, keep last 5."""
SENSOR_LATEST = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.BEST_EFFORT)
"""A reader of a sensor topic that wants only the newest sample (a polled policy input): best effort, keep last 1."""
COMMAND = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/joint_commands: reliable, depth 1 (only the newest command matters)."""
RELIABLE = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/cmd_vel, /diagnostics."""
LATCHED = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""/estop: reliable, transient local (a late joiner still sees the latched state)."""
