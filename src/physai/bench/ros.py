"""`physai bench ros`: the ROS 2 loop's latency, timing and throughput, through real rclpy nodes on localhost.

Figures:
  state_to_command_latency_us  sim_node publishes a state → policy_node's command for it arrives (lockstep,
                               stamp echoed), p50/p99, through rclpy and Fast DDS
  sim_loop_lateness_us         sim_node's 500 Hz realtime loop (policy running): wake-up lateness p50/p99/max
                               and misses, without RT privileges (SCHED_OTHER) and with them when permitted;
                               the bringup's default loop_cpu:=auto gives the loop a CPU of its own (3+ CPUs)
  bare_loop_lateness_us        a RateLoop with no work and no ROS in this process (SCHED_OTHER, 500 Hz, same
                               run): what this machine's timers and scheduler allow at best
  lockstep_steps_per_s         sim_node physics steps/s in lockstep against an instant responder (this process)
  raw_mj_step_steps_per_s      bare mj_step loop on the same model, same run
Ratio:
  lockstep_vs_raw_mj_step      lockstep / raw (the cost of a ROS round trip per control period)
  sim_loop_vs_bare_lateness_p99  sim_node no-RT lateness p99 / bare RateLoop p99
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import mujoco

from physai.bench.report import empty_loop, write_report
from physai.bringup.domain import own_domain
from physai.bringup.launcher import launch, localhost_env, start_node, stop_all
from physai.bringup.sets import NodeLaunch, params_yaml
from physai.paths import data_root, scratch_dir
from physai.record import diagnostics
from physai.record.summary import summarize
from physai.sim import Simulator

POLICY = data_root() / "policies" / "biped_balance" / "policy.onnx"


STARTUP_S = 20.0
"""Start-up time a bench launch gets on top of its measurement (imports and model load: seconds on a loaded
2-core machine; the run itself ends at its max_sim_time_s)."""


def run(seconds: float = 20.0, json_path: str | Path | None = None) -> dict:
    """Measure every figure in one run (on a DDS domain of its own); `seconds` of wall time per measurement."""
    with own_domain():
        return _measure(seconds, json_path)


def _measure(seconds: float, json_path: str | Path | None) -> dict:
    work = scratch_dir("bench-ros-")
    figures: dict[str, Any] = {}
    lockstep = _launch_summary(work / "lockstep", {"mode": "lockstep", "max_sim_time_s": str(seconds * 2)}, seconds * 4)
    figures["state_to_command_latency_us"] = {
        "p50": float(lockstep[diagnostics.STATE_TO_COMMAND_US_P50]),
        "p99": float(lockstep[diagnostics.STATE_TO_COMMAND_US_P99]),
    }
    lateness = {}
    for label, rt in (("no_rt", "false"), ("rt", "true")):
        values = _launch_summary(
            work / label, {"mode": "realtime", "max_sim_time_s": str(seconds), "realtime_priority": rt}, seconds * 3
        )
        lateness[label] = {
            "p50": float(values[diagnostics.LATENESS_P50_US]),
            "p99": float(values[diagnostics.LATENESS_P99_US]),
            "max": float(values[diagnostics.LATENESS_MAX_US]),
            "misses": int(values[diagnostics.MISSES]),
            "sched_fifo": values.get("sched_fifo", "?"),
        }
    figures["sim_loop_lateness_us"] = lateness
    figures["bare_loop_lateness_us"] = _bare_loop(seconds / 2)
    figures["lockstep_steps_per_s"] = _lockstep_throughput(work / "responder", seconds / 2)
    figures["raw_mj_step_steps_per_s"] = _raw_mj_step(seconds / 4)
    ratios = {
        "lockstep_vs_raw_mj_step": figures["lockstep_steps_per_s"] / figures["raw_mj_step_steps_per_s"],
        "sim_loop_vs_bare_lateness_p99": lateness["no_rt"]["p99"] / figures["bare_loop_lateness_us"]["p99"],
    }
    return write_report("ros", figures, ratios, json_path, robot="testbed_biped", seconds=seconds)


def _launch_summary(folder: Path, extra: dict[str, str], timeout_s: float) -> dict[str, str]:
    """Run the sim bringup with the shipped policy, recording only /diagnostics; sim_node's last diagnostics."""
    bag = folder / "bag"
    args = {"policy": str(POLICY), "record": str(bag), "record_topics": "/diagnostics", **extra}
    result = launch("sim", args, duration_s=timeout_s, run_dir=folder / "run", settle_s=STARTUP_S)  # + start-up
    if result.exit_code:
        raise RuntimeError(f"bench run {extra} failed: {result.failed}")
    values = summarize(bag).diagnostics.get(diagnostics.SIM_SAFETY)
    if not values:
        raise RuntimeError(f"no sim_node diagnostics recorded in {bag}")
    return values


def _lockstep_throughput(folder: Path, seconds: float) -> float:
    """Physics steps/s of a lockstep sim_node answered by an instant responder node in this process."""
    from physai.ros.responder import answer_rate

    folder.mkdir(parents=True, exist_ok=True)
    node = NodeLaunch("sim_node", "sim_node", "physai.ros.sim_node", {"mode": "lockstep", "state_subscribers": 1})
    params = folder / "params.yaml"
    params.write_text(params_yaml([node]))
    procs = [(node, start_node(node, params, folder, localhost_env()))]
    try:
        rate = answer_rate(seconds)
    finally:
        stop_all(procs)
    return rate * 10  # physics steps per answer: 0.02 s control period at 0.002 s physics (no policy file)


def _bare_loop(seconds: float) -> dict[str, float]:
    """Lateness of an empty 500 Hz RateLoop without RT settings in this process (the machine's floor)."""
    stats = empty_loop(0.002, seconds)
    return {**stats.lateness_us(), "misses": stats.misses}


def _raw_mj_step(seconds: float) -> float:
    """Bare mj_step steps/s on the model sim_node builds."""
    sim = Simulator("testbed_biped")
    model, data = sim.model, sim.data
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            mujoco.mj_step(model, data)
        steps += 1000
    return steps / (time.perf_counter() - start)
