"""The node sets (sim now; hil and robot come with the hardware path) and their launch arguments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from physai.values import parse_value


@dataclass(frozen=True)
class NodeLaunch:
    """One node of a bringup: which executable, under which name, with which parameters."""

    name: str
    """Node name; also its key in the params YAML."""
    executable: str
    """Console script (`ros2 run physai <executable>`)."""
    module: str
    """Python module whose main() runs the node (`python -m <module>`)."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """ros__parameters."""
    stop_last: bool = False
    """Stopped after every other node (the recorder, so it sees the others' last messages)."""


LAUNCH_ARGUMENTS: dict[str, dict[str, tuple[Any, str]]] = {
    "sim": {
        "robot": ("testbed_biped", "robot name or robot.yaml path"),
        "policy": ("", "policy.onnx (its contract gives gains and rates); empty: no policy node"),
        "mode": ("realtime", "realtime | lockstep"),
        "scene": ("flat", "scene in sim_envs/scenes or an MJCF path"),
        "seed": (0, "reset seed of the simulator"),
        "timeout_s": (0.05, "command timeout of the safety guard (s)"),
        "rt": (True, "try SCHED_FIFO / mlockall for the sim loop (reported on /diagnostics when refused)"),
        "sim_time": (0.0, "stop the run after this much sim time (s); 0 = run until stopped"),
        "push": (0.0, "push disturbances: base velocity change per push (m/s), every 3 s; 0 = none"),
        "push_schedule": ("", "exact pushes as JSON [[t_s, dvx, dvy], ...] (used by sim2sim)"),
        "soft_start": (0.5, "soft-start ramp of the safety guard (s)"),
        "record": ("", "bag directory to record every topic into (rosbag2 MCAP); empty: no recording"),
    },
}
"""Per set: argument → (default, help). Values given as strings are converted to the default's type."""


def _sim(args: Mapping[str, Any]) -> list[NodeLaunch]:
    lockstep = args["mode"] == "lockstep"
    nodes = [
        NodeLaunch(
            "sim_node",
            "sim_node",
            "physai.ros.sim_node",
            {
                "robot": args["robot"],
                "policy": args["policy"],
                "mode": args["mode"],
                "scene": args["scene"],
                "seed": args["seed"],
                "timeout_s": args["timeout_s"],
                "push_velocity_m_s": args["push"],
                "push_schedule": args["push_schedule"],
                "soft_start_s": args["soft_start"],
                "max_sim_time_s": args["sim_time"],
                "realtime_priority": args["rt"],
                "lockstep_subscribers": int(bool(args["policy"])) + int(bool(args["record"])),
            },
        )
    ]
    if args["policy"]:
        trigger = "state" if lockstep else "timer"
        nodes.append(
            NodeLaunch(
                "policy_node",
                "policy_node",
                "physai.ros.policy_node",
                {"policy": args["policy"], "robot": args["robot"], "trigger": trigger},
            )
        )
    if args["record"]:
        nodes.insert(
            0, NodeLaunch("recorder_node", "recorder_node", "physai.ros.recorder_node", {"bag": args["record"]})
        )
    return nodes


BRINGUPS: dict[str, Callable[[Mapping[str, Any]], list[NodeLaunch]]] = {"sim": _sim}


def resolve_arguments(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in and strings converted; ValueError naming an unknown argument or a bad value."""
    if name not in BRINGUPS:
        raise ValueError(f"unknown bringup {name!r}; expected one of {', '.join(BRINGUPS)}")
    declared = LAUNCH_ARGUMENTS[name]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown} for bringup {name!r}; expected {', '.join(declared)}")
    out = {}
    for key, (default, _) in declared.items():
        value = given.get(key, default)
        if isinstance(value, str) and not isinstance(default, str):
            try:
                value = type(default)(parse_value(value))
            except (TypeError, ValueError):
                raise ValueError(f"argument {key}:={value!r}; expected a {type(default).__name__}") from None
        out[key] = value
    if name == "sim" and out["mode"] not in ("realtime", "lockstep"):
        raise ValueError(f"argument mode:={out['mode']!r}; expected realtime or lockstep")
    return out


def bringup(name: str, given: Mapping[str, Any]) -> list[NodeLaunch]:
    """The nodes of set `name` for the given launch arguments (see LAUNCH_ARGUMENTS)."""
    return BRINGUPS[name](resolve_arguments(name, given))


def params_yaml(nodes: list[NodeLaunch]) -> str:
    """The standard ROS 2 params file for these nodes: {node: {ros__parameters: {...}}}."""
    return yaml.safe_dump({n.name: {"ros__parameters": n.parameters} for n in nodes}, sort_keys=False)
