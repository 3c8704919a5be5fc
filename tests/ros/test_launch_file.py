"""launch/*.launch.py are thin adapters over physai.bringup (ROS 2's launch packages are not installable
here, so they are replaced by minimal stand-ins that record what the launch file builds)."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

from physai.bringup import LAUNCH_ARGUMENTS, bringup
from physai.bringup.sets import resolve_loop_cpu

LAUNCH_DIR = Path(__file__).resolve().parents[2] / "launch"


class _Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


@pytest.fixture
def fake_launch(monkeypatch):
    values = {}
    launch = types.ModuleType("launch")
    launch.LaunchDescription = lambda entities: entities
    actions = types.ModuleType("launch.actions")
    actions.DeclareLaunchArgument = _Recorded
    actions.OpaqueFunction = _Recorded
    substitutions = types.ModuleType("launch.substitutions")

    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            defaults = {k: v for spec in LAUNCH_ARGUMENTS.values() for k, (v, _) in spec.items()}
            return values.get(self.name, str(defaults[self.name]))

    substitutions.LaunchConfiguration = LaunchConfiguration
    launch_ros = types.ModuleType("launch_ros")
    launch_ros_actions = types.ModuleType("launch_ros.actions")
    launch_ros_actions.Node = _Recorded
    for name, module in {
        "launch": launch,
        "launch.actions": actions,
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
    entities = load(name).generate_launch_description()
    nodes = entities[-1].kwargs["function"](context=None)
    assert [n.kwargs["name"] for n in nodes] == [n.name for n in bringup(name, {"policy": "/p/policy.onnx"})]


def test_sim_launch_builds_the_bringup_nodes(fake_launch):
    fake_launch.update({"policy": "/p/policy.onnx", "mode": "lockstep", "record": "/tmp/bag"})
    entities = load("sim").generate_launch_description()
    declared = [e.args[0] for e in entities if "default_value" in e.kwargs]
    assert declared == list(LAUNCH_ARGUMENTS["sim"])
    opaque = entities[-1]
    nodes = opaque.kwargs["function"](context=None)
    expected = bringup("sim", {"policy": "/p/policy.onnx", "mode": "lockstep", "record": "/tmp/bag"})
    assert [n.kwargs["name"] for n in nodes] == [n.name for n in expected]
    assert [n.kwargs["executable"] for n in nodes] == [n.executable for n in expected]
    assert [n.kwargs["parameters"] for n in nodes] == [[n.parameters] for n in expected]
    assert all(n.kwargs["package"] == "physai" for n in nodes)
    prefixes = [f"taskset -c {','.join(map(str, n.cpus))}" if n.cpus else None for n in expected]
    assert [n.kwargs["prefix"] for n in nodes] == prefixes  # the same CPU plan as `physai launch`
    policy = next(n for n in expected if n.name == "policy_node")
    assert policy.parameters["trigger"] == "state"  # lockstep: the policy answers each state


def test_bad_launch_argument_is_named():
    with pytest.raises(ValueError, match="mode:='fast'"):
        bringup("sim", {"mode": "fast"})
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['robto'\]"):
        bringup("sim", {"robto": "x"})
    with pytest.raises(ValueError, match="seed:='abc'; expected a int"):
        bringup("sim", {"seed": "abc"})


def test_loop_cpu_keeps_one_cpu_for_the_control_loop():
    assert resolve_loop_cpu("auto", {0, 1, 2, 3}) == 3
    assert resolve_loop_cpu("auto", {0}) == -1  # one CPU: nothing to keep apart
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
