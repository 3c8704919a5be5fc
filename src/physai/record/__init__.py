"""MCAP (rosbag2) recording and reading of ROS 2 topics, without rclpy.

`McapRecorder` writes CDR bytes (from a raw rclpy subscription, fed by `physai.ros`) into a rosbag2 bag
directory that `ros2 bag`, rosbags, Foxglove and the mcap tools read; `read_bag`, `message_counts` and
`bag_info` read it back (also when the recorder was killed mid-run); `recover` finalizes such a bag.
Message definitions come from the installed message packages' `.msg` files (`physai.record.msgdefs`).
"""

from physai.record.bagmeta import QosProfile, offered_qos_yaml
from physai.record.msgdefs import MessageDefinition, UnknownMessageTypeError, resolve_definition
from physai.record.reader import (
    BagFormatError,
    BagInfo,
    BagMessage,
    RecoveryReport,
    TopicInfo,
    bag_info,
    is_finalized,
    mcap_files,
    message_counts,
    read_bag,
    recover,
    velocity_command,
)
from physai.record.writer import McapRecorder, RecorderClosedError

__all__ = [
    "BagFormatError",
    "BagInfo",
    "BagMessage",
    "McapRecorder",
    "MessageDefinition",
    "QosProfile",
    "RecorderClosedError",
    "RecoveryReport",
    "TopicInfo",
    "UnknownMessageTypeError",
    "bag_info",
    "is_finalized",
    "mcap_files",
    "message_counts",
    "offered_qos_yaml",
    "read_bag",
    "recover",
    "resolve_definition",
    "velocity_command",
]
