"""`physai bench ros`: a short end-to-end run writes every figure, finite, with its same-run baseline."""

import json
import math

import pytest

from physai.cli import main

pytestmark = pytest.mark.ros


def test_bench_ros_end_to_end_report(tmp_path):
    path = tmp_path / "bench_ros.json"
    assert main(["bench", "ros", "--seconds", "2", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    figures, ratios = report["figures"], report["ratios"]
    for name in ("state_to_command_latency_us", "round_trip_latency_us", "policy_inference_us"):
        assert 0 < figures[name]["p50"] <= figures[name]["p99"], name
    for label in ("no_rt", "rt"):
        lateness = figures["sim_loop_lateness_us"][label]
        assert 0 <= lateness["p50"] <= lateness["p99"] <= lateness["max"] and lateness["misses"] >= 0
    assert figures["sim_loop_lateness_us"]["no_rt"]["sched_fifo"].startswith("skipped")
    bare = figures["bare_loop_lateness_us"]
    assert 0 <= bare["p50"] <= bare["p99"] <= bare["max"]
    assert figures["lockstep_steps_per_s"] > 0 and figures["raw_mj_step_steps_per_s"] > 0
    assert math.isclose(
        ratios["lockstep_vs_raw_mj_step"], figures["lockstep_steps_per_s"] / figures["raw_mj_step_steps_per_s"]
    )
    assert math.isclose(
        ratios["state_to_command_vs_round_trip_p99"],
        figures["state_to_command_latency_us"]["p99"] / figures["round_trip_latency_us"]["p99"],
    )
    assert math.isclose(
        ratios["sim_loop_vs_bare_lateness_p99"], figures["sim_loop_lateness_us"]["no_rt"]["p99"] / bare["p99"]
    )
