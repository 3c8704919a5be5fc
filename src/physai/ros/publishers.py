"""A second publisher on a topic a node owns: another run on the same DDS domain, said on /diagnostics.

sim_node and driver_node own the state topics and take /joint_commands from one policy; policy_node owns
/joint_commands. Two publishers on one of them means two runs cross-talk (each robot following both policies),
which no message content shows; the graph does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.node import Node

from physai.record import diagnostics
from physai.ros import convert


def publisher_status(node: Node, topics: Sequence[str]) -> DiagnosticStatus | None:
    """`<node>: topics` status: WARN naming each of `topics` with more than one publisher, else OK.

    None (no check) when the calling thread runs at SCHED_FIFO: a graph query takes rmw's graph lock, which
    the DDS threads hold while they process discovery, and a FIFO thread waiting on a thread it preempts stalls
    (HIL, where policy_node runs at FIFO 85: commands more than 50 ms apart and the guard timing out). The
    real-time sets are the HIL set, alone in its network namespace, and the robot set.
    """
    if os.sched_getscheduler(0) == os.SCHED_FIFO:
        return None
    counts = {topic: node.count_publishers(topic) for topic in topics}
    crowded = {topic: n for topic, n in counts.items() if n > 1}
    message = (
        "; ".join(f"{n} publishers on {topic}" for topic, n in crowded.items())
        + " (another run on this DDS domain? each physai launch leases one of its own)"
        if crowded
        else "one publisher per topic"
    )
    level = convert.WARN if crowded else convert.OK
    values = {f"publishers {topic}": n for topic, n in counts.items()}
    return convert.diagnostic_status(diagnostics.topics(node.get_name()), level, message, values)
