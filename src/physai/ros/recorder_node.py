"""recorder_node: every physai topic into a rosbag2 MCAP bag (physai.record), finalized on shutdown.

Subscriptions are raw (CDR bytes straight into the bag, no deserialization) and best effort with a deep
queue, which matches both reliable and best-effort publishers. They are polled (`physai.ros.polled`): a
loop in the node's own thread takes every waiting message each `poll_period_s` and stamps it with its take
time, so ~2,000 messages/s cost a C call each instead of an executor pass each (which on a 2-core machine
took CPU time the control nodes need). The loop also flushes the open chunk every second, so a killed run
loses at most about a second.
"""

from __future__ import annotations

import importlib
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription

from physai.record import McapRecorder
from physai.ros.node_config import RECORDABLE, RecorderNodeConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import PolledGroup, take_all


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
        self.recorder = McapRecorder(self.config.bag)
        self.subscriptions_by_topic: list[tuple[str, str, Subscription]] = []
        for topic in self.config.selected():
            type_name = RECORDABLE[topic]
            latched = topic == "/estop"
            profile = QoSProfile(
                depth=1 if latched else 200,
                reliability=ReliabilityPolicy.RELIABLE if latched else ReliabilityPolicy.BEST_EFFORT,
                durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
            )
            sub = self.create_subscription(
                message_class(type_name), topic, _unused, profile, raw=True, callback_group=PolledGroup()
            )
            self.subscriptions_by_topic.append((topic, type_name, sub))

    def run(self) -> None:
        """Take and write every waiting message each poll period, until shutdown."""
        while rclpy.ok():
            self.poll()
            time.sleep(self.config.poll_period_s)

    def poll(self) -> None:
        """Write every message waiting on every subscription (CDR bytes, stamped now); flush when due."""
        for topic, type_name, sub in self.subscriptions_by_topic:
            for data in take_all(sub):
                self.recorder.add(topic, type_name, data, time.time_ns())
        self.recorder.flush_if_due()

    def close(self) -> None:
        """Take what is still waiting, then finalize the bag (summary, footer, metadata.yaml)."""
        self.poll()
        self.recorder.close()


def main(args: list[str] | None = None) -> None:
    """Console entry point `recorder_node`."""
    run_node("recorder_node", RecorderNode, args)


if __name__ == "__main__":
    main()
