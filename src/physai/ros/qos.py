"""QoS profiles of the physai topic contract (DESIGN.md, "ROS 2 interface")."""

from collections.abc import Callable

from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

SENSOR = qos_profile_sensor_data
"""/joint_states, /imu/data, /odom, camera: best effort, keep last 5."""
LOCKSTEP_STATE = QoSProfile(depth=50, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/joint_states, /imu/data, /odom as sim_node offers them in lockstep: reliable, keep last 50. Best-effort
(sensor-data) readers match it and are never waited for; a reader that asks reliable (the recorder's
`reliable_topics`) gets a sample lost on a busy host sent again, so a lockstep bag holds every step (best effort
lost ~15 of 200 states to the policy in one loaded CI run, which its resends hid, and an /odom sample to the
recorder, which cut a sim2sim episode short)."""
SENSOR_LATEST = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.BEST_EFFORT)
"""A reader of a sensor topic that wants only the newest sample (a polled policy input): best effort, keep last 1."""
COMMAND = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/joint_commands: reliable, depth 1 (only the newest command matters)."""
RELIABLE = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/cmd_vel, /diagnostics."""
CAMERA = QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""/camera/image_raw, /camera/camera_info as sim_node offers them: reliable, keep last 5. Sensor-data (best-effort)
readers match it; one that asks for reliable (perception_node and the recorder, `as_offered`) gets every frame: a
0.9 MB image is ~15 DDS fragments, and best effort lost ~60 % of the images here on a loaded host (27 sent, 10–11
recorded)."""
LATCHED = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""/estop: reliable, transient local (a late joiner still sees the latched state)."""


def as_offered(node: Node, topic: str, depth: int) -> QoSProfile | None:
    """A reader profile for `topic` that gets what its publishers offer (rosbag2's QoS adaptation), keep last `depth`.

    Reliable where every publisher seen offers reliable (a camera: a lost fragment no longer loses an image),
    else best effort (which matches every publisher); None while the topic has no publisher yet.
    """
    writers = node.get_publishers_info_by_topic(topic)
    if not writers:
        return None
    reliable = all(w.qos_profile.reliability == ReliabilityPolicy.RELIABLE for w in writers)
    return QoSProfile(
        depth=depth,
        history=HistoryPolicy.KEEP_LAST,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
    )


def subscribe_published(node: Node, pending: dict[str, Callable[[QoSProfile], object]], depth: int) -> None:
    """For each topic of `pending` that now has a publisher: `pending[topic](as_offered(...))`, and drop it.

    `pending` maps a topic to what subscribes it given a profile; a node calls this from a timer until it is empty.
    """
    for topic, subscribe in list(pending.items()):
        profile = as_offered(node, topic, depth)
        if profile is not None:
            del pending[topic]
            subscribe(profile)
