"""launch_monitor: what `physai launch` knows about its node processes, published on /diagnostics.

The launcher may not import rclpy, so at the first exit of one of its nodes it starts this node and writes
one JSON object per line to its stdin:

    {"node": "policy_node", "event": "died", "returncode": -9, "detail": "killed by SIGKILL", "log_tail": "..."}
    {"node": "policy_node", "event": "respawned", "pid": 4242}

Per node, one DiagnosticStatus "launch: <node>": ERROR after a death ("died"), WARN once it has been
respawned, OK after a clean exit ("finished", exit code 0), with the death count, the last exit and the log
tail. The statuses are published at once on each event and again every `period_s`, so that a late
subscriber (a recorder, rqt_robot_monitor) sees them. The node ends at the end of its stdin (the launch ends).
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from typing import Any

from rclpy.node import Node

from physai.record import diagnostics
from physai.ros import convert, qos
from physai.ros.node_config import LaunchMonitorConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read

LEVELS = {"died": convert.ERROR, "respawned": convert.WARN, "finished": convert.OK}
"""Diagnostic level per launcher event."""


class LaunchMonitor(Node):
    """Turns the launcher's events (stdin, JSON lines) into /diagnostics; see the module docstring."""

    def __init__(self) -> None:
        super().__init__("launch_monitor")
        self.config = declare_and_read(self, LaunchMonitorConfig)
        self.pub = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        self.lock = threading.Lock()
        self.statuses: dict[str, convert.DiagnosticStatus] = {}
        self.deaths: Counter[str] = Counter()
        self.last_exit: dict[str, dict[str, Any]] = {}
        self.create_timer(self.config.period_s, self.publish)

    def on_event(self, event: dict[str, Any]) -> None:
        """Update the status of `event["node"]` from one launcher event."""
        node, kind = str(event["node"]), str(event["event"])
        if kind not in LEVELS:
            raise ValueError(f"event {kind!r}; expected one of {', '.join(LEVELS)}")
        with self.lock:
            if kind != "respawned":
                self.last_exit[node] = event
            self.deaths[node] += int(kind == "died")
            last = self.last_exit.get(node, {})
            values = {
                "deaths": self.deaths[node],
                "returncode": last.get("returncode", ""),
                "last_exit": last.get("detail", ""),
                "pid": event.get("pid", ""),
                "log_tail": last.get("log_tail", ""),
            }
            message = {
                "died": f"died: {event.get('detail', '')}",
                "respawned": f"respawned after {self.deaths[node]} death(s)",
                "finished": "finished (exit code 0)",
            }[kind]
            self.statuses[node] = convert.diagnostic_status(
                diagnostics.launch_node(node), LEVELS[kind], message, values, node
            )

    def publish(self) -> None:
        """Every node's latest status, in one DiagnosticArray (nothing before the first event)."""
        with self.lock:
            statuses = list(self.statuses.values())
        if statuses:
            stamp = self.get_clock().now().to_msg()
            self.pub.publish(convert.diagnostic_array(stamp, statuses))

    def run(self) -> None:
        """Read events from stdin until its end; each one is published at once."""
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                self.on_event(json.loads(line))
            except (ValueError, KeyError, TypeError) as err:
                self.get_logger().warning(f"ignoring launcher event {line.strip()!r}: {err}")
                continue
            self.publish()


def main(args: list[str] | None = None) -> None:
    """Entry point (`python -m physai.ros.launch_monitor`, started by `physai launch`)."""
    run_node("launch_monitor", LaunchMonitor, args)


if __name__ == "__main__":
    main()
