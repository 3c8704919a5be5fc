"""An instant responder: answers every /joint_states with a command holding the measured pose (same stamp).

Used by `physai bench ros` to drive a lockstep sim_node as fast as ROS allows, and to measure the ROS round
trip with no policy work in it: sim_node's own state→command latency while the responder answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Imu, JointState

from physai.record import diagnostics
from physai.ros import convert, qos


@dataclass
class Answered:
    """What a responder run measured."""

    rate_per_s: float = 0.0
    """Answers per second over the measured window."""
    sim_values: dict[str, str] = field(default_factory=dict)
    """sim_node's last safety /diagnostics values seen (its state→command latency is the ROS round trip)."""


def answer(seconds: float, warmup_answers: int = 50, discovery_timeout_s: float = 30.0) -> Answered:
    """Answer a lockstep sim_node for `seconds`, after discovery and `warmup_answers` answers."""
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = Node("bench_responder")
    answers, reports = [0], [0]
    result = Answered()
    pub = node.create_publisher(JointState, "/joint_commands", qos.COMMAND)

    def respond(msg: JointState) -> None:
        command = JointState(name=msg.name, position=msg.position)
        command.header.stamp = msg.header.stamp
        pub.publish(command)
        answers[0] += 1

    def keep_sim_values(msg: convert.DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == diagnostics.SIM_SAFETY:
                result.sim_values = {kv.key: kv.value for kv in status.values}
                reports[0] += 1

    node.create_subscription(JointState, "/joint_states", respond, qos.SENSOR)
    node.create_subscription(convert.DiagnosticArray, "/diagnostics", keep_sim_values, qos.RELIABLE)
    node.create_subscription(Imu, "/imu/data", lambda _msg: None, qos.SENSOR)  # sim_node waits for both readers
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        # the warm-up counts from when sim_node takes the answers (as policy_node's command_subscribers): before
        # that the states are only its resends, every 0.5 s, and no answer reaches it to be timed
        deadline = time.monotonic() + discovery_timeout_s
        while pub.get_subscription_count() == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("no lockstep sim_node subscribed /joint_commands within the discovery timeout")
            time.sleep(0.01)
        first = answers[0]
        while answers[0] - first < warmup_answers:
            if time.monotonic() > deadline:
                raise TimeoutError("no lockstep sim_node answered within the discovery timeout")
            time.sleep(0.05)
        start_n, start_t = answers[0], time.monotonic()
        time.sleep(seconds)
        result.rate_per_s = (answers[0] - start_n) / (time.monotonic() - start_t)
        seen, deadline = reports[0], time.monotonic() + discovery_timeout_s
        while reports[0] == seen and time.monotonic() < deadline:  # one more report, covering the whole window
            time.sleep(0.05)
        return result
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
