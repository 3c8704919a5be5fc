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


def driver_motor(joint: str) -> str:
    """driver_node's status of one faulted motor."""
    return f"driver_node: motor {joint}"


def launch_node(node: str) -> str:
    """Physai launch's status of a node that died, respawned or finished (physai.ros.launch_monitor)."""
    return f"launch: {node}"
