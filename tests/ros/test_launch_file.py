"""launch/*.launch.py are thin adapters over physai.bringup (ROS 2's launch packages are not installable
here, so they are replaced by minimal stand-ins that record what the launch file builds)."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

from physai.bringup import LAUNCH_ARGUMENTS, NodeLaunch, bringup
from physai.bringup.sets import resolve_loop_cpu

LAUNCH_DIR = Path(__file__).resolve().parents[2] / "launch"


class _Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class FakeNode(_Recorded):
    pass


class FakeRegisterEventHandler(_Recorded):
    pass


def built(entities):
    """(Node actions, {node name: its OnProcessExit actions}) of a generated launch description."""
    actions = entities[-1].kwargs["function"](context=None)
    nodes = [a for a in actions if isinstance(a, FakeNode)]
    handlers = [a.args[0] for a in actions if isinstance(a, FakeRegisterEventHandler)]
    on_exit = {h.kwargs["target_action"].kwargs["name"]: h.kwargs["on_exit"] for h in handlers}
    return nodes, on_exit


@pytest.fixture
def fake_launch(monkeypatch):
    values = {}
    launch = types.ModuleType("launch")
    launch.LaunchDescription = lambda entities: entities
    actions = types.ModuleType("launch.actions")
    declared = {}

    def declare(name, default_value, description):  # the set's own default, as launch keeps it per argument
        declared[name] = default_value
        return _Recorded(name, default_value=default_value, description=description)

    actions.DeclareLaunchArgument = declare
    actions.OpaqueFunction = _Recorded
    actions.RegisterEventHandler = FakeRegisterEventHandler
    actions.Shutdown = _Recorded
    event_handlers = types.ModuleType("launch.event_handlers")
    event_handlers.OnProcessExit = _Recorded
    substitutions = types.ModuleType("launch.substitutions")

    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return values.get(self.name, declared[self.name])

    substitutions.LaunchConfiguration = LaunchConfiguration
    launch_ros = types.ModuleType("launch_ros")
    launch_ros_actions = types.ModuleType("launch_ros.actions")
    launch_ros_actions.Node = FakeNode
    for name, module in {
        "launch": launch,
        "launch.actions": actions,
        "launch.event_handlers": event_handlers,
        "launch.substitutions": substitutions,
        "launch_ros": launch_ros,
        "launch_ros.actions": launch_ros_actions,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return values


def load(name):
    spec = importlib.util.spec_from_file_location(name, LAUNCH_DIR / f"{name}.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["hil", "robot"])
def test_every_set_has_a_launch_file(fake_launch, name):
    fake_launch.update({"policy": "/p/policy.onnx"})
    nodes, _ = built(load(name).generate_launch_description())
    assert [n.kwargs["name"] for n in nodes] == [n.name for n in bringup(name, {"policy": "/p/policy.onnx"})]


def test_sim_launch_builds_the_bringup_nodes(fake_launch):
    fake_launch.update({"policy": "/p/policy.onnx", "mode": "lockstep", "record": "/tmp/bag"})
    entities = load("sim").generate_launch_description()
    declared = [e.args[0] for e in entities if "default_value" in e.kwargs]
    assert declared == list(LAUNCH_ARGUMENTS["sim"])
    nodes, _ = built(entities)
    expected = bringup("sim", {"policy": "/p/policy.onnx", "mode": "lockstep", "record": "/tmp/bag"})
    assert [n.kwargs["name"] for n in nodes] == [n.name for n in expected]
    assert [n.kwargs["executable"] for n in nodes] == [n.executable for n in expected]
    assert [n.kwargs["parameters"] for n in nodes] == [[n.parameters] for n in expected]
    assert all(n.kwargs["package"] == "physai" for n in nodes)
    prefixes = [f"taskset -c {','.join(map(str, n.cpus))}" if n.cpus else None for n in expected]
    assert [n.kwargs["prefix"] for n in nodes] == prefixes  # the same CPU plan as `physai launch`
    policy = next(n for n in expected if n.name == "policy_node")
    assert policy.parameters["trigger"] == "state"  # lockstep: the policy answers each state


@pytest.mark.parametrize(("name", "actuators"), [("sim", ["sim_node"]), ("hil", ["motor_sim_node", "driver_node"])])
def test_only_an_actuator_nodes_exit_shuts_the_launch_down(fake_launch, name, actuators):
    fake_launch.update({"policy": "/p/policy.onnx", "record": "/tmp/bag"})
    nodes, on_exit = built(load(name).generate_launch_description())
    assert sorted(on_exit) == sorted(actuators)  # never the policy node or the recorder
    for node_name, exit_actions in on_exit.items():
        assert [a.kwargs["reason"] for a in exit_actions] == [f"{node_name} exited"]
    assert {n.kwargs["name"] for n in nodes} >= {*actuators, "policy_node", "recorder_node"}


@pytest.mark.parametrize("name", ["sim", "hil", "robot"])
def test_respawn_reaches_the_policy_node_only(fake_launch, name):
    nodes, _ = built(load(name).generate_launch_description())
    assert all(n.kwargs["respawn"] is False for n in nodes)  # default: nobody respawns
    fake_launch.update({"policy": "/p/policy.onnx", "respawn": "true", "respawn_delay": "0.5"})
    nodes, on_exit = built(load(name).generate_launch_description())
    respawned = {n.kwargs["name"]: n.kwargs["respawn_delay"] for n in nodes if n.kwargs["respawn"]}
    assert respawned == {"policy_node": 0.5}
    assert "policy_node" not in on_exit


def test_respawn_arguments_are_checked():
    assert all({"respawn", "respawn_delay"} <= set(args) for args in LAUNCH_ARGUMENTS.values())
    policy = next(n for n in bringup("robot", {"policy": "/p/policy.onnx"}) if n.name == "policy_node")
    assert (policy.respawn, policy.respawn_delay_s) == (False, 2.0)
    with pytest.raises(ValueError, match=r"respawn_delay:=-1\.0; expected seconds ≥ 0"):
        bringup("sim", {"respawn_delay": "-1"})
    with pytest.raises(ValueError, match="an actuator node is never respawned"):
        NodeLaunch("sim_node", "sim_node", "physai.ros.sim_node", actuator=True, respawn=True)
    assert [n.name for n in bringup("hil", {"policy": "/p/policy.onnx"}) if n.actuator] == [
        "motor_sim_node",
        "driver_node",
    ]


def test_bad_launch_argument_is_named():
    with pytest.raises(ValueError, match="argument mode:=fast; expected realtime or lockstep"):
        bringup("sim", {"mode": "fast"})
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['robto'\]"):
        bringup("sim", {"robto": "x"})
    with pytest.raises(ValueError, match="argument seed:=abc; expected a whole number"):
        bringup("sim", {"seed": "abc"})


def test_loop_cpu_keeps_one_cpu_for_the_control_loop():
    assert resolve_loop_cpu("auto", {0, 1, 2, 3}) == 3
    assert resolve_loop_cpu("auto", {0}) == -1  # one CPU: nothing to keep apart
    assert resolve_loop_cpu("auto", {0, 1}) == -1  # two: the other nodes would have one CPU between them
    assert resolve_loop_cpu("auto", {4, 5, 6}) == 6
    assert resolve_loop_cpu("none", {0, 1}) == -1
    assert resolve_loop_cpu("2", {0, 2}) == 2
    with pytest.raises(ValueError, match=r"loop_cpu:='5'; expected auto, none or one of the allowed CPUs \[0, 1\]"):
        resolve_loop_cpu("5", {0, 1})
    with pytest.raises(ValueError, match="loop_cpu:='fast'"):
        resolve_loop_cpu("fast", {0, 1})


@pytest.mark.parametrize(("name", "loop_node"), [("sim", "sim_node"), ("hil", "driver_node"), ("robot", "driver_node")])
def test_every_node_stays_off_the_loop_cpu(name, loop_node):
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    nodes = bringup(name, {"policy": "/p/policy.onnx", "loop_cpu": str(cpu)})
    assert {n.name: n.parameters.get("loop_cpu") for n in nodes if "loop_cpu" in n.parameters} == {loop_node: cpu}
    assert all(n.cpus == tuple(sorted(allowed - {cpu})) for n in nodes)
    unpinned = bringup(name, {"policy": "/p/policy.onnx", "loop_cpu": "none"})
    assert all(n.cpus == () for n in unpinned)
    assert next(n for n in unpinned if n.name == loop_node).parameters["loop_cpu"] == -1


def test_lockstep_has_no_loop_to_pin():
    nodes = bringup(
        "sim", {"policy": "/p/policy.onnx", "mode": "lockstep", "loop_cpu": str(min(os.sched_getaffinity(0)))}
    )
    assert all(n.cpus == () for n in nodes)
    assert nodes[0].parameters["loop_cpu"] == -1
