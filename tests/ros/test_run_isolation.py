"""Runs a user can trust: two launches at once stay apart, and a signal never leaves a node or a torn bag behind.

`physai launch` and `physai record` run as the console scripts, in their own processes, as a user starts them.
The two concurrent launches get no ROS_DOMAIN_ID, so each leases its own (physai.bringup.domain).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rosbags.rosbag2 import Reader as RosbagsReader

from physai.record import is_finalized, mcap_files, message_counts, read_bag
from physai.record.summary import summarize
from tests.ros.rosprobe import BALANCE_POLICY

pytestmark = [pytest.mark.ros, pytest.mark.filterwarnings("ignore:module .sre_:DeprecationWarning")]

SIM_TIME_S = 4.0
CONTROL_PERIOD_S = 0.02


def physai(args: list[str], tmp_path: Path, *, own_domain: bool) -> subprocess.Popen:
    """`physai ARGS` as a user starts it; its run folders under tmp_path, its output in tmp_path/<n>.log."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    if own_domain:
        env.pop("ROS_DOMAIN_ID", None)  # as on a user's shell: the launch leases a domain of its own
    log = (tmp_path / f"{len(list(tmp_path.glob('*.log')))}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "physai.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def node_pids(tmp_path: Path) -> set[int]:
    """Pids of every physai node process whose params file lies under tmp_path (this test's runs only)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"physai.ros." in part for part in cmdline) and any(str(tmp_path).encode() in p for p in cmdline):
            pids.add(int(proc.name))
    return pids


def _states_by_stamp(bag: Path) -> dict[int, set[tuple[float, ...]]]:
    """Every distinct /joint_states position vector of the bag, by header stamp (ns)."""
    states: dict[int, set[tuple[float, ...]]] = {}
    for item in read_bag(bag, topics=["/joint_states"]):
        stamp = item.message.header.stamp.sec * 1_000_000_000 + item.message.header.stamp.nanosec
        states.setdefault(stamp, set()).add(tuple(item.message.position))
    return states


def test_two_launches_at_once_each_record_only_their_own_run(tmp_path):
    """Each bag holds its own run's states only: the seeds give different start poses, so a state of the other
    run differs from this run's at the same stamp; a lockstep resend (an unanswered state, sent again after
    0.5 s) repeats the same state and is allowed."""
    bags = [tmp_path / "bag_a", tmp_path / "bag_b"]
    launch = ["launch", "sim", f"policy:={BALANCE_POLICY}", "mode:=lockstep", f"max_sim_time_s:={SIM_TIME_S}"]
    runs = [
        physai([*launch, f"record:={bag}", f"seed:={i}", "reset_noise_rad:=0.02"], tmp_path, own_domain=True)
        for i, bag in enumerate(bags)
    ]
    for run in runs:
        assert run.wait(timeout=120) == 0
    logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))
    assert "ROS_DOMAIN_ID=" in logs  # the second launch said which domain it took
    states = [_states_by_stamp(bag) for bag in bags]
    for bag, own in zip(bags, states, strict=True):
        summary = summarize(bag)
        counts = message_counts(bag)
        assert SIM_TIME_S - 0.1 <= summary.sim_seconds <= SIM_TIME_S + 0.05, summary.table()
        assert counts["/joint_commands"] <= SIM_TIME_S / CONTROL_PERIOD_S + 5, counts  # its own policy's only
        mixed = {stamp: len(seen) for stamp, seen in own.items() if len(seen) > 1}
        assert not mixed, f"stamps with states of two runs: {mixed}"
        assert abs(len(own) - counts["/joint_commands"]) <= 3, (len(own), counts)  # one step per command
        assert not summary.crowded_topics, summary.table()
    first = min(states[0])
    assert states[0][first] != states[1][first]  # the seeds do give the runs different states


def _finalized_and_readable(bag: Path) -> int:
    """Messages in a finalized bag, read by rosbags (the reference reader)."""
    assert all(is_finalized(f) for f in mcap_files(bag))
    with RosbagsReader(bag) as reader:
        return sum(1 for _ in reader.messages())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_physai_record_finalizes_the_bag_and_leaves_no_node(sig, tmp_path):
    bag = tmp_path / "bag"
    recorder = physai(["record", str(bag)], tmp_path, own_domain=False)
    deadline = time.monotonic() + 30
    while not (bag / "bag_0.mcap").exists() and time.monotonic() < deadline:  # created once it records
        time.sleep(0.1)
    assert node_pids(tmp_path), "the recorder node runs"
    recorder.send_signal(sig)
    assert recorder.wait(timeout=20) == 0
    assert not node_pids(tmp_path)
    _finalized_and_readable(bag)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_physai_launch_stops_every_node_and_finalizes_the_bag(sig, tmp_path):
    bag = tmp_path / "bag"
    launch = physai(["launch", "sim", f"policy:={BALANCE_POLICY}", f"record:={bag}"], tmp_path, own_domain=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the run has recorded 1 s of sim time
        if bag.is_dir() and message_counts(bag).get("/joint_commands", 0) >= 50:
            break
        time.sleep(0.2)
    running = node_pids(tmp_path)
    assert {"sim_node", "policy_node", "recorder_node"} <= {
        Path(f"/proc/{pid}/cmdline").read_bytes().split(b"physai.ros.")[1].split(b"\0")[0].decode() for pid in running
    }
    launch.send_signal(sig)
    assert launch.wait(timeout=40) == 0
    assert not node_pids(tmp_path)
    assert _finalized_and_readable(bag) > 0
    first = next(iter(read_bag(bag, topics=["/joint_states"])))
    stamp = first.message.header.stamp
    assert stamp.sec + stamp.nanosec * 1e-9 <= 0.1  # the bag holds the run from sim time 0
