"""An instant responder: answers every /joint_states with a command holding the measured pose (same stamp).

Used by `physai bench ros` to drive a lockstep sim_node as fast as ROS allows.
"""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Imu, JointState

from physai.ros import qos


def answer_rate(seconds: float, warmup_answers: int = 50, discovery_timeout_s: float = 30.0) -> float:
    """Answers per second over `seconds`, after discovery and `warmup_answers` answers."""
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = Node("bench_responder")
    answers = [0]
    pub = node.create_publisher(JointState, "/joint_commands", qos.COMMAND)

    def answer(msg: JointState) -> None:
        command = JointState(name=msg.name, position=msg.position)
        command.header.stamp = msg.header.stamp
        pub.publish(command)
        answers[0] += 1

    node.create_subscription(JointState, "/joint_states", answer, qos.SENSOR)
    node.create_subscription(Imu, "/imu/data", lambda _msg: None, qos.SENSOR)  # sim_node waits for both readers
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + discovery_timeout_s
        while answers[0] < warmup_answers:
            if time.monotonic() > deadline:
                raise TimeoutError("no lockstep sim_node answered within the discovery timeout")
            time.sleep(0.05)
        start_n, start_t = answers[0], time.monotonic()
        time.sleep(seconds)
        return (answers[0] - start_n) / (time.monotonic() - start_t)
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
