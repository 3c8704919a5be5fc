"""Names of the /diagnostics statuses the nodes publish: one constant each, for producers and readers alike.

The nodes (physai.ros) publish them; run summaries (physai.record.summary), benchmarks and tests read them
back from recordings, so a renamed status breaks at import, not silently in a table.
"""

from __future__ import annotations

SIM_SAFETY = "sim_node: safety"
"""sim_node's guard, loop timing, camera and push counters."""
DRIVER_SAFETY = "driver_node: safety"
"""driver_node's guard, loop timing and bus counters."""
PLANT = "motor_sim_node: plant"
"""The HIL plant: virtual-motor counters, injected faults, loop timing."""
POLICY = "policy_node: policy"
"""policy_node: commands published, inference latency, staleness."""
PERCEPTION = "perception_node: target"
"""perception_node: detections per second, latency, reprojection error, why no target is published."""


def driver_motor(joint: str) -> str:
    """driver_node's status of one faulted motor."""
    return f"driver_node: motor {joint}"


TOPICS_SUFFIX = ": topics"


def topics(node: str) -> str:
    """A node's status of the topics it owns: WARN when one has a second publisher (physai.ros.publishers)."""
    return node + TOPICS_SUFFIX


def launch_node(node: str) -> str:
    """Physai launch's status of a node that died, respawned or finished (physai.ros.launch_monitor)."""
    return f"launch: {node}"


# ---- keys read back by summaries and benchmarks ------------------------------------------------------------
TICKS = "ticks"
"""Loop ticks so far (physai.control.LoopStats)."""
MISSES = "misses"
"""Deadlines missed so far."""
LATENESS_P50_US = "lateness_p50_us"
LATENESS_P99_US = "lateness_p99_us"
LATENESS_MAX_US = "lateness_max_us"
"""Wake-up lateness of the loop over its window (µs)."""
HOST_STALLS = "host_stalls"
"""Gaps between two loop ticks that were host stalls, left out of the watchdogs' clock (physai.control.StallClock)."""
LONGEST_STALL_MS = "longest_stall_ms"
"""The longest of them (ms)."""
MODE = "mode"
"""SafetyGuard mode (physai.control.GuardMode value)."""
MODE_SINCE_UNIX_S = "mode_since_unix_s"
"""Wall time the guard entered that mode (s since the epoch)."""
SIM_TIME_S = "sim_time_s"
"""Simulated time (s)."""
STATE_TO_COMMAND_US_P50 = "state_to_command_us_p50"
STATE_TO_COMMAND_US_P99 = "state_to_command_us_p99"
"""Published state → the command answering it, at sim_node (µs)."""
INFERENCE_US_P50 = "inference_us_p50"
INFERENCE_US_P99 = "inference_us_p99"
"""policy_node's onnxruntime call (µs)."""
