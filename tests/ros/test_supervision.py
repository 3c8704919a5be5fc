"""Supervision in `physai launch` (DESIGN.md "Runtime rules"): a dead policy node takes nobody down.

The real launcher runs the sim bringup (realtime, shipped balance policy, recorded); a thread SIGKILLs
policy_node (its pid from <run>/pids.json) once sim_node's guard is active. sim_node then runs to its
sim_time in latched damping, the death is on /diagnostics (status_names.launch_node("policy_node")) and the launch ends with
exit code 1 naming the node; with respawn:=true a new policy_node starts, and the guard still stays damped
because nobody re-armed it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from physai.bringup.launcher import launch
from physai.record import diagnostics as status_names
from physai.record import read_bag
from physai.record.summary import summarize
from tests.ros.rosprobe import BALANCE_POLICY, Probe, guard_statuses

pytestmark = pytest.mark.ros

ERROR, WARN = 2, 1
"""diagnostic_msgs/DiagnosticStatus levels."""
COMMAND_TIMEOUT_S = 0.2
"""The guard's command timeout (s): longer than the default 50 ms, so that a start-up stall of a loaded test
machine does not latch damping before the kill (a latched timeout is what the tests look for after it)."""


class PolicyKiller(threading.Thread):
    """SIGKILLs policy_node once sim_node's guard is active; then, if asked to, waits for a respawned pid, or
    for the guard's timeout and stops the launch as an operator would (SIGTERM to this process)."""

    def __init__(self, probe: Probe, run_dir: Path, respawn: bool = False, operator_stop: bool = False) -> None:
        super().__init__(daemon=True)
        self.probe, self.run_dir, self.respawn, self.operator_stop = probe, run_dir, respawn, operator_stop
        self.killed_pid = self.respawned_pid = None
        self.killed_ns = self.respawned_ns = 0
        self.error: BaseException | None = None

    def policy_pid(self) -> int | None:
        path = self.run_dir / "pids.json"
        return json.loads(path.read_text()).get("policy_node") if path.is_file() else None

    def wait_mode(self, mode: str, timeout_s: float) -> None:
        self.probe.wait_for(
            f"guard mode {mode}", lambda: any(v["mode"] == mode for _, v in guard_statuses(self.probe)), timeout_s
        )

    def run(self) -> None:
        try:
            self.wait_mode("active", 60)
            self.killed_pid = self.policy_pid()
            os.kill(self.killed_pid, signal.SIGKILL)
            self.killed_ns = time.time_ns()
            if self.respawn:
                self.respawned_pid = self.probe.wait_for(
                    "a respawned policy_node",
                    lambda: self.policy_pid() not in (None, self.killed_pid) and self.policy_pid(),
                    10,
                )
                self.respawned_ns = time.time_ns()
            if self.operator_stop:
                self.wait_mode("timeout", 10)
                time.sleep(1.0)  # damped for a while, still running
                os.kill(os.getpid(), signal.SIGTERM)  # the launcher's handler (main thread) stops the launch
        except BaseException as err:  # reported by the test, which the launch does not wait for
            self.error = err


def run_sim(
    tmp_path: Path, probe: Probe, sim_time: str, operator_stop: bool = False, **extra: str
) -> tuple[object, PolicyKiller, Path]:
    """The sim bringup (recorded) until sim_time or a SIGTERM, policy_node SIGKILLed once active; (result,
    killer, bag)."""
    from diagnostic_msgs.msg import DiagnosticArray

    from physai.ros import qos

    probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
    bag, run_dir = tmp_path / "bag", tmp_path / "run"
    killer = PolicyKiller(probe, run_dir, respawn=extra.get("respawn") == "true", operator_stop=operator_stop)
    killer.start()
    args = {
        "policy": str(BALANCE_POLICY),
        "mode": "realtime",
        "max_sim_time_s": sim_time,
        "record": str(bag),
        "timeout_s": str(COMMAND_TIMEOUT_S),
        **extra,
    }
    result = launch("sim", args, duration_s=90, run_dir=run_dir)
    killer.join(timeout=5)
    assert killer.error is None, killer.error
    assert not killer.is_alive(), "the guard never became active (a start-up stall latched the timeout?)"
    return result, killer, bag


def bag_statuses(bag: Path, name: str) -> list[tuple[int, object]]:
    """(log time ns, DiagnosticStatus) of every recorded status called `name`."""
    return [
        (item.log_time_ns, status)
        for item in read_bag(bag, topics=["/diagnostics"])
        for status in item.message.status
        if status.name == name
    ]


def values(status: object) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}


def level(status: object) -> int:
    raw = status.level
    return raw[0] if isinstance(raw, bytes) else int(raw)


def test_killed_policy_node_leaves_the_sim_running_damped_and_fails_the_launch(tmp_path, probe):
    result, killer, bag = run_sim(tmp_path, probe, sim_time="8")
    assert result.exit_code == 1
    assert result.failed.startswith("policy_node killed by SIGKILL (exit code -9)"), result.failed
    assert [(d.node, d.returncode) for d in result.deaths] == [("policy_node", -9)]  # sim_node ended with 0
    clock = [m.message.clock for m in read_bag(bag, topics=["/clock"])]
    assert clock[-1].sec + clock[-1].nanosec * 1e-9 >= 7.99, "sim_node kept running to its sim_time"
    sim = summarize(bag).diagnostics[status_names.SIM_SAFETY]
    assert sim["mode"] == "timeout" and int(sim["timeout"]) == 1
    after_kill = [
        values(s)["mode"] for t, s in bag_statuses(bag, status_names.SIM_SAFETY) if t > killer.killed_ns + 1e9
    ]
    assert after_kill and set(after_kill) == {"timeout"}  # damped from the timeout to the end
    deaths = bag_statuses(bag, status_names.launch_node("policy_node"))
    assert deaths, "the death is on /diagnostics"
    status = deaths[-1][1]
    assert level(status) == ERROR and status.message == "died: killed by SIGKILL (exit code -9)"
    assert values(status)["returncode"] == "-9" and values(status)["deaths"] == "1"
    assert json.loads((result.run_dir / "pids.json").read_text()) == {}  # nothing left running


def test_respawned_policy_node_does_not_take_the_robot_back_without_rearm(tmp_path, probe):
    result, killer, bag = run_sim(tmp_path, probe, sim_time="10", respawn="true", respawn_delay="0.5")
    assert killer.respawned_pid not in (None, killer.killed_pid)
    assert result.exit_code == 1 and [d.node for d in result.deaths] == ["policy_node"]
    log = (result.run_dir / "policy_node.log").read_text()
    assert "--- physai launch: policy_node respawned (start 2) ---" in log  # the second process's log follows
    commands = [m.log_time_ns for m in read_bag(bag, decode=False, topics=["/joint_commands"])]
    resumed = [t for t in commands if t > killer.respawned_ns]
    assert len(resumed) >= 10, "the respawned policy_node publishes commands again"
    modes = [values(s)["mode"] for t, s in bag_statuses(bag, status_names.SIM_SAFETY) if t > killer.killed_ns + 1e9]
    assert modes and set(modes) == {"timeout"}, "its commands do not leave damping: nobody re-armed"
    last = bag_statuses(bag, status_names.launch_node("policy_node"))[-1][1]
    assert level(last) == WARN and last.message == "respawned after 1 death(s)"
    assert values(last)["pid"] == str(killer.respawned_pid)


def test_operator_stop_after_a_death_ends_the_launch_with_exit_code_1(tmp_path, probe):
    result, killer, bag = run_sim(tmp_path, probe, sim_time="0", operator_stop=True)  # no end of its own
    assert result.exit_code == 1 and [d.node for d in result.deaths] == ["policy_node"]
    assert result.wall_s < 60, "SIGTERM ended the launch"
    last_time, last = bag_statuses(bag, status_names.SIM_SAFETY)[-1]
    assert values(last)["mode"] == "timeout" and last_time > killer.killed_ns + 5e8  # damped until the stop
    assert json.loads((result.run_dir / "pids.json").read_text()) == {}


def test_nodes_run_in_their_own_process_group_inside_the_launchers_session(tmp_path):
    """Each node leads its own process group (away from the terminal's Ctrl-C) in the launcher's session: one
    scheduler autogroup, so a `nice -n 19` load is honoured (physai.bringup.launcher.start_node)."""
    from physai.bringup.launcher import localhost_env, start_node, stop_all
    from physai.bringup.sets import bringup, params_yaml

    nodes = bringup("sim", {"mode": "realtime"})
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, tmp_path, localhost_env())) for n in nodes]
    try:
        for _, proc in procs:
            assert os.getpgid(proc.pid) == proc.pid
            assert os.getsid(proc.pid) == os.getsid(0)
    finally:
        stop_all(procs)
    assert all(proc.returncode is not None for _, proc in procs)
