"""`physai launch ... record:=`: a NAME.mcap value means the bag directory NAME; the summary of a lockstep run.

The launch itself is replaced by a stand-in (no nodes start): these tests cover the argument handling and the
printed summary, tests/ros cover real launches.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import physai.bringup.launcher as launcher
import physai.record.summary as summary_module
from physai.cli import main
from physai.record import diagnostics as status_names
from physai.record.summary import RunSummary
from physai.values import bag_directory

LOCKSTEP_SIM = {
    "mode": "active",
    "accepted": "214",
    "sim_time_s": "4.2800",
    "ticks": "0",
    "window": "0",
    "misses": "0",
    "lateness_p50_us": "nan",
    "lateness_p99_us": "nan",
    "lateness_max_us": "nan",
    "state_to_command_us_p50": "4707.5",
    "state_to_command_us_p99": "11058.0",
}
REALTIME_SIM = {
    **LOCKSTEP_SIM,
    "ticks": "10000",
    "window": "4096",
    "lateness_p50_us": "38.2",
    "lateness_p99_us": "81.0",
    "lateness_max_us": "140.3",
    "sleep": "clock_nanosleep",
}


@pytest.mark.parametrize(
    ("value", "bag"),
    [
        ("run.mcap", "run"),
        ("out/run.mcap", "out/run"),
        ("out/run.mcap/", "out/run"),
        ("out/run", "out/run"),
        ("out/demo_bag", "out/demo_bag"),
        ("out/.mcap", "out/.mcap"),  # a hidden directory named .mcap, not a suffix
        ("", ""),
    ],
)
def test_a_record_value_ending_in_mcap_names_the_bag_directory_without_it(value, bag):
    assert bag_directory(value) == bag


def test_lockstep_summary_says_loop_lateness_does_not_apply():
    run = RunSummary(
        sim_seconds=4.28, start_height_m=0.48, min_height_m=0.476, diagnostics={status_names.SIM_SAFETY: LOCKSTEP_SIM}
    )
    table = run.table()
    assert "nan" not in table
    (line,) = [line for line in table.splitlines() if line.startswith("sim loop lateness")]
    assert "does not apply" in line and "lockstep" in line
    assert "state → command     p50 4707.5 µs, p99 11058.0 µs" in table


def test_realtime_summary_keeps_loop_lateness_figures():
    table = RunSummary(diagnostics={status_names.SIM_SAFETY: REALTIME_SIM}).table()
    assert "sim loop lateness   p50 38.2 µs, p99 81.0 µs, max 140.3 µs, misses 0" in table
    assert "does not apply" not in table and "state → command" not in table


@pytest.fixture
def fake_launch(monkeypatch, tmp_path):
    """Replaces the launch (records its arguments; writes the bag unless told not to) and the bag summary."""
    state = SimpleNamespace(calls=[], recorder_fails=False)

    def launch(name, given, **kwargs):
        state.calls.append(dict(given))
        if state.recorder_fails:
            failed = "recorder_node exited with code 1:\nrefusing to start"
            print("physai launch: recorder_node exited with code 1 after 0.1 s", file=sys.stderr)  # as launch() does
            return launcher.LaunchResult(exit_code=1, run_dir=tmp_path, failed=failed, wall_s=0.1)
        if given.get("record"):
            Path(given["record"]).mkdir(parents=True)
        return launcher.LaunchResult(exit_code=0, run_dir=tmp_path, failed=None, wall_s=0.1)

    monkeypatch.setattr(launcher, "launch", launch)
    monkeypatch.setattr(summary_module, "summarize", lambda bag: RunSummary(diagnostics={status_names.SIM_SAFETY: {}}))
    return state


def test_launch_records_a_mcap_name_into_the_bag_directory(fake_launch, tmp_path, capsys):
    assert main(["launch", "sim", "mode:=lockstep", f"record:={tmp_path}/run.mcap"]) == 0
    assert fake_launch.calls[0]["record"] == str(tmp_path / "run")
    captured = capsys.readouterr()
    assert f"→ bag directory {tmp_path / 'run'} (run_0.mcap inside)" in captured.out
    assert f"recording: {tmp_path / 'run'}\n" in captured.out
    assert captured.err == ""


def test_launch_refuses_an_existing_bag_directory_given_as_mcap(fake_launch, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert main(["launch", "sim", f"record:={tmp_path}/run.mcap"]) == 2
    assert fake_launch.calls == []  # refused before any node starts
    err = capsys.readouterr().err
    assert f"record:={tmp_path / 'run'} already exists" in err


def test_a_recorder_that_never_wrote_its_bag_is_reported_once(fake_launch, tmp_path, capsys):
    fake_launch.recorder_fails = True
    assert main(["launch", "sim", f"record:={tmp_path}/bag"]) == 1
    err = capsys.readouterr().err
    assert "recorder_node exited with code 1" in err
    assert f"no recording: {tmp_path / 'bag'} was not written" in err
    assert "does not exist" not in err and err.count("physai") == 2  # the node's exit, then one line about the bag


@pytest.mark.parametrize(("mode", "reliable"), [("lockstep", "/joint_states,/imu/data,/odom"), ("realtime", "")])
def test_the_recorder_asks_reliable_for_the_state_topics_of_a_lockstep_sim_only(mode, reliable, tmp_path):
    from tests.ros.rosprobe import BALANCE_POLICY

    from physai.bringup import bringup

    nodes = bringup("sim", {"policy": BALANCE_POLICY, "mode": mode, "record": str(tmp_path / "bag")})
    recorder = next(n for n in nodes if n.name == "recorder_node")
    assert recorder.parameters["reliable_topics"] == reliable


@pytest.mark.parametrize("topic", ["/camera/image_raw", "/estop", "/no_such_topic"])
def test_the_recorder_refuses_a_reliable_topic_it_does_not_subscribe_itself(topic):
    from physai.ros.node_config import RecorderNodeConfig

    with pytest.raises(ValueError, match=f"parameter 'reliable_topics' names \\['{topic}'\\]"):
        RecorderNodeConfig(bag="bag", reliable_topics=topic)


@pytest.mark.parametrize(
    ("topics", "reliable"),
    [("", ["/diagnostics"]), ("/diagnostics", ["/diagnostics"]), ("/joint_states,/odom", [])],
)
def test_the_recorder_subscribes_diagnostics_reliable_whenever_it_records_them(topics, reliable):
    """A run's last /diagnostics is sent once, and its node waits for reliable readers only (ci407 lost it)."""
    from physai.ros.node_config import RecorderNodeConfig

    assert RecorderNodeConfig(bag="bag", topics=topics).reliable() == reliable
    both = RecorderNodeConfig(bag="bag", reliable_topics="/joint_states,/diagnostics").reliable()
    assert both == ["/joint_states", "/diagnostics"]  # named once
