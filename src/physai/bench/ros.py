"""`physai bench ros`: the ROS 2 loop's latency, timing and throughput, through real rclpy nodes on localhost.

Figures:
  state_to_command_latency_us  sim_node publishes a state → policy_node's command for it arrives (lockstep,
                               stamp echoed), p50/p99, through rclpy and Fast DDS
  policy_inference_us          policy_node's onnxruntime call in that run, p50/p99 (part of the latency above)
  round_trip_latency_us        the same state → command latency at sim_node with an instant responder in place
                               of policy_node (same run): the ROS round trip with no policy work, its floor
  sim_loop_lateness_us         sim_node's 500 Hz realtime loop (policy running): wake-up lateness p50/p99/max
                               and misses, without RT privileges (SCHED_OTHER) and with them when permitted;
                               the bringup's default loop_cpu:=auto gives the loop a CPU of its own (3+ CPUs)
  bare_loop_lateness_us        a RateLoop with no work and no ROS in this process (SCHED_OTHER, 500 Hz, same
                               run): what this machine's timers and scheduler allow at best
  lockstep_steps_per_s         sim_node physics steps/s in lockstep against that instant responder (this process)
  raw_mj_step_steps_per_s      bare mj_step loop on the same model, same run
Ratio:
  lockstep_vs_raw_mj_step      lockstep / raw (the cost of a ROS round trip per control period)
  state_to_command_vs_round_trip_p99  policy latency p99 / responder round-trip p99 (what the policy node adds)
  sim_loop_vs_bare_lateness_p99  sim_node no-RT lateness p99 / bare RateLoop p99
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mujoco

from physai.bench.report import empty_loop, write_report
from physai.bringup.domain import own_domain
from physai.bringup.launcher import launch, localhost_env, start_node, stop_all
from physai.bringup.sets import NodeLaunch, params_yaml
from physai.paths import data_root, scratch_dir
from physai.record import diagnostics
from physai.record.summary import summarize
from physai.sim import Simulator

if TYPE_CHECKING:
    from physai.ros.responder import Answered

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
    statuses = _launch_summary(work / "lockstep", {"mode": "lockstep", "max_sim_time_s": str(seconds * 2)}, seconds * 4)
    figures["state_to_command_latency_us"] = _state_to_command(statuses[diagnostics.SIM_SAFETY], "lockstep policy")
    policy = statuses.get(diagnostics.POLICY, {})
    figures["policy_inference_us"] = {
        "p50": float(policy.get(diagnostics.INFERENCE_US_P50, "nan")),
        "p99": float(policy.get(diagnostics.INFERENCE_US_P99, "nan")),
    }
    lateness = {}
    for label, rt in (("no_rt", "false"), ("rt", "true")):
        values = _launch_summary(
            work / label, {"mode": "realtime", "max_sim_time_s": str(seconds), "realtime_priority": rt}, seconds * 3
        )[diagnostics.SIM_SAFETY]
        lateness[label] = {
            "p50": float(values[diagnostics.LATENESS_P50_US]),
            "p99": float(values[diagnostics.LATENESS_P99_US]),
            "max": float(values[diagnostics.LATENESS_MAX_US]),
            "misses": int(values[diagnostics.MISSES]),
            "sched_fifo": values.get("sched_fifo", "?"),
        }
    figures["sim_loop_lateness_us"] = lateness
    figures["bare_loop_lateness_us"] = _bare_loop(seconds / 2)
    responder = _respond_to_lockstep(work / "responder", seconds / 2)
    figures["round_trip_latency_us"] = _state_to_command(responder.sim_values, "responder")
    figures["lockstep_steps_per_s"] = responder.rate_per_s * 10  # physics steps per answer: 0.02 s control
    # period at 0.002 s physics (sim_node without a policy file)
    figures["raw_mj_step_steps_per_s"] = _raw_mj_step(seconds / 4)
    ratios = {
        "lockstep_vs_raw_mj_step": figures["lockstep_steps_per_s"] / figures["raw_mj_step_steps_per_s"],
        "state_to_command_vs_round_trip_p99": (
            figures["state_to_command_latency_us"]["p99"] / figures["round_trip_latency_us"]["p99"]
        ),
        "sim_loop_vs_bare_lateness_p99": lateness["no_rt"]["p99"] / figures["bare_loop_lateness_us"]["p99"],
    }
    return write_report("ros", figures, ratios, json_path, robot="testbed_biped", seconds=seconds)


def _launch_summary(folder: Path, extra: dict[str, str], timeout_s: float) -> dict[str, dict[str, str]]:
    """Run the sim bringup with the shipped policy, recording only /diagnostics; each node's last diagnostics."""
    bag = folder / "bag"
    args = {"policy": str(POLICY), "record": str(bag), "record_topics": "/diagnostics", **extra}
    result = launch("sim", args, duration_s=timeout_s, run_dir=folder / "run", settle_s=STARTUP_S)  # + start-up
    if result.exit_code:
        raise RuntimeError(f"bench run {extra} failed: {result.failed}")
    statuses = summarize(bag).diagnostics
    if not statuses.get(diagnostics.SIM_SAFETY):
        raise RuntimeError(f"no sim_node diagnostics recorded in {bag}")
    return statuses


def _state_to_command(values: dict[str, str], run: str) -> dict[str, float]:
    """sim_node's state → command latency p50/p99 (µs) from its diagnostics values in the `run` named."""
    if diagnostics.STATE_TO_COMMAND_US_P99 not in values:
        raise RuntimeError(f"sim_node reported no state → command latency in the {run} run: {sorted(values)}")
    return {
        "p50": float(values[diagnostics.STATE_TO_COMMAND_US_P50]),
        "p99": float(values[diagnostics.STATE_TO_COMMAND_US_P99]),
    }


def _respond_to_lockstep(folder: Path, seconds: float) -> Answered:
    """A lockstep sim_node (no policy) answered by an instant responder node in this process for `seconds`."""
    from physai.ros.responder import answer

    folder.mkdir(parents=True, exist_ok=True)
    node = NodeLaunch("sim_node", "sim_node", "physai.ros.sim_node", {"mode": "lockstep", "state_subscribers": 1})
    params = folder / "params.yaml"
    params.write_text(params_yaml([node]))
    procs = [(node, start_node(node, params, folder, localhost_env()))]
    try:
        return answer(seconds)
    finally:
        stop_all(procs)


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
