"""recorder_node: every physai topic into a rosbag2 MCAP bag (physai.record), finalized on shutdown.

Subscriptions are raw (CDR bytes straight into the bag, no deserialization) and best effort with a deep queue,
which matches both reliable and best-effort publishers; `reliable_topics` (a lockstep sim's state topics) and
/diagnostics (a run's last report is sent once) are subscribed reliable, so a sample lost on a busy host is sent
again. Camera topics are subscribed once a publisher is seen, reliable where every publisher offers it (rosbag2's
QoS adaptation, physai.ros.qos.subscribe_published): a 0.9 MB image is ~15 DDS fragments, and best effort loses the
whole image with any one of them (27 sent, 10–11 recorded on a loaded host).

Subscriptions are polled (`physai.ros.polled`): a loop in the node's own thread takes every waiting message each
`poll_period_s` and stamps it with its take time (log time) and the publisher's write time (publish time: the DDS
source timestamp, as rosbag2 does). ~2,000 messages/s then cost a C call each instead of an executor pass each,
which on a 2-core machine took CPU time the control nodes need. The loop also flushes the open chunk every second,
so a killed run loses at most about a second. With `compress_images`, camera images are stored as JPEG
CompressedImage on /camera/image_raw/compressed (physai.ros.images): the one topic that is deserialized and
re-encoded.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from functools import partial

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription

from physai.record import McapRecorder
from physai.ros import qos
from physai.ros.node_config import CAMERA_TOPICS, RecorderNodeConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import PolledGroup, take_all_with_info

IMAGE_TOPIC = "/camera/image_raw"
COMPRESSED_TOPIC = "/camera/image_raw/compressed"
"""image_transport's name for the compressed stream of IMAGE_TOPIC."""
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
DEPTH = 200
"""Queue of each subscription between polls."""
GRAPH_CHECK_S = 0.05
"""How often the graph is asked for the publishers of camera topics not yet subscribed (s)."""
LATE_POLL_S = 0.5
"""A gap between two polls longer than this is logged (s): the evidence when a bag misses part of a run."""


def message_class(type_name: str) -> type:
    """The Python class of a ROS message type "pkg/msg/Type"."""
    package, _, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def _unused(_msg: bytes) -> None:
    """The callback of a polled subscription (never called: no executor runs it)."""


class RecorderNode(Node):
    """Writes every message of TOPICS, with its receive time, into an MCAP bag."""

    def __init__(self) -> None:
        super().__init__("recorder_node")
        self.config = declare_and_read(self, RecorderNodeConfig)
        self.subscriptions_by_topic: list[tuple[str, str, Subscription]] = []
        self.skipped_images = 0
        self.unseen: dict[str, Callable[[QoSProfile], object]] = {  # camera topics: subscribed once published
            t: partial(self.subscribe, t) for t in self.config.selected() if t in CAMERA_TOPICS
        }
        self.graph_checked_s = 0.0
        for topic in self.config.selected():
            if topic == "/estop":
                self.subscribe(topic, qos.LATCHED)
            elif topic not in self.unseen:
                reliable = topic in self.config.reliable()
                policy = ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT
                self.subscribe(topic, QoSProfile(depth=DEPTH, reliability=policy))
        self.recorder = McapRecorder(self.config.bag)  # last: once the bag exists, run() and close() own it

    def subscribe(self, topic: str, profile: QoSProfile) -> None:
        """A polled raw subscription to `topic`."""
        type_name = self.config.type_of(topic)
        sub = self.create_subscription(
            message_class(type_name), topic, _unused, profile, raw=True, callback_group=PolledGroup()
        )
        self.subscriptions_by_topic.append((topic, type_name, sub))

    def run(self) -> None:
        """Take and write every waiting message each poll period, until shutdown; log a poll that came late."""
        polled = time.monotonic()
        while rclpy.ok():
            self.poll()
            time.sleep(self.config.poll_period_s)
            now = time.monotonic()
            if now - polled > LATE_POLL_S:
                self.get_logger().warning(
                    f"a poll cycle took {now - polled:.3f} s (period {self.config.poll_period_s} s): a topic with "
                    f"more than {DEPTH} messages waiting meanwhile lost its oldest"
                )
            polled = now

    def poll(self) -> None:
        """Write every message waiting on every subscription (CDR bytes, logged now); flush when due."""
        if self.unseen and time.monotonic() - self.graph_checked_s > GRAPH_CHECK_S:
            self.graph_checked_s = time.monotonic()
            qos.subscribe_published(self, self.unseen, DEPTH)  # reliable if every publisher offers it
        for topic, type_name, sub in self.subscriptions_by_topic:
            for data, info in take_all_with_info(sub):
                now = time.time_ns()
                published = info.get("source_timestamp") or now
                if topic == IMAGE_TOPIC and self.config.compress_images:
                    topic_out, type_out, data = self.compress(data)
                    if data is None:
                        continue
                    self.recorder.add(topic_out, type_out, data, now, publish_time_ns=published)
                    continue
                self.recorder.add(topic, type_name, data, now, publish_time_ns=published)
        self.recorder.flush_if_due()

    def compress(self, data: bytes) -> tuple[str, str, bytes | None]:
        """(topic, type, CDR bytes) of the JPEG CompressedImage of one raw Image; None bytes for a bad image."""
        from rclpy.serialization import deserialize_message, serialize_message
        from sensor_msgs.msg import Image

        from physai.ros.images import compressed_image_msg
        from physai.vision import ImageError

        try:
            out = compressed_image_msg(deserialize_message(data, Image), self.config.jpeg_quality)
        except ImageError as err:
            self.skipped_images += 1
            self.get_logger().warning(f"image not recorded: {err}", throttle_duration_sec=5.0)
            return COMPRESSED_TOPIC, COMPRESSED_TYPE, None
        return COMPRESSED_TOPIC, COMPRESSED_TYPE, serialize_message(out)

    def close(self) -> None:
        """Take what is still waiting, then finalize the bag (summary, footer, metadata.yaml).

        A Ctrl-C inside a chunk write leaves the recorder torn: poll() then raises, and close() still
        rebuilds the bag from what was written.
        """
        try:
            self.poll()
        finally:
            self.recorder.close()


def main(args: list[str] | None = None) -> None:
    """Console entry point `recorder_node`."""
    run_node("recorder_node", RecorderNode, args)


if __name__ == "__main__":
    main()
