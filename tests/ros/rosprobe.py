"""Test-side ROS helpers: a probe node that records messages, and readers of sim_node's diagnostics."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from physai.record import diagnostics as status_names

ROOT = Path(__file__).resolve().parents[2]
BALANCE_POLICY = ROOT / "policies" / "biped_balance" / "policy.onnx"


class Probe:
    """A test-side node: collects messages per topic, publishes, and waits for conditions."""

    def __init__(self) -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        self.node = Node(f"test_probe_{os.getpid()}_{random.randint(0, 1 << 30)}")
        self.messages: dict[str, list[tuple[float, object]]] = {}
        self.lock = threading.Lock()
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def subscribe(self, msg_type: type, topic: str, qos: object) -> None:
        self.messages.setdefault(topic, [])

        def keep(msg: object) -> None:
            with self.lock:
                self.messages[topic].append((time.monotonic(), msg))

        self.node.create_subscription(msg_type, topic, keep, qos)

    def received(self, topic: str) -> list[tuple[float, object]]:
        with self.lock:
            return list(self.messages.get(topic, []))

    def wait_for(self, what: str, condition: Callable[[], object], timeout_s: float) -> object:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.002)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def statuses(probe: Probe, name: str) -> list[dict[str, str]]:
    """Key/values of every /diagnostics status called `name` received so far, oldest first."""
    return [
        {kv.key: kv.value for kv in status.values}
        for _, msg in probe.received("/diagnostics")
        for status in msg.status
        if status.name == name
    ]


def guard_statuses(probe: Probe) -> list[tuple[float, dict[str, str]]]:
    """(receive time, key/values) of every sim_node safety diagnostic received so far."""
    return [
        (t, {kv.key: kv.value for kv in status.values})
        for t, msg in probe.received("/diagnostics")
        for status in msg.status
        if status.name == status_names.SIM_SAFETY
    ]


def assert_follows(command, measured, slack=(0.06, 0.06, 0.15), off_axis=(0.12, 0.12, 0.3)) -> None:
    """A walk segment's mean measured (vx, vy, yaw rate) follows its command's sign and magnitude.

    A commanded axis moves the commanded way at 50–150 % of the command (± `slack`, m/s or rad/s); an axis
    commanded to zero stays within `off_axis` (a walking body sways and drifts a little).
    """
    for axis, (cmd, got) in enumerate(zip(command, measured, strict=True)):
        label = f"axis {axis}: commanded {cmd}, walked {got:.3f} (command {tuple(command)}, walked {tuple(measured)})"
        if abs(cmd) < 1e-9:
            assert abs(got) <= off_axis[axis], label
            continue
        assert got * cmd > 0, label
        assert 0.5 * abs(cmd) - slack[axis] <= abs(got) <= 1.5 * abs(cmd) + slack[axis], label
