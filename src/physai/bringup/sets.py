"""The node sets (sim, hil, robot) and their launch arguments; node-parameter arguments come from the nodes' configs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from physai.control.rate_loop import FIFO_PRIORITY_ENV
from physai.errors import FieldError
from physai.fields import field_docs
from physai.ros.node_config import (
    TELEOP_SOURCES,
    DriverNodeConfig,
    MotorSimNodeConfig,
    PolicyNodeConfig,
    SimNodeConfig,
    parse_target,
)
from physai.values import bag_directory, parse_value


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
    cpus: tuple[int, ...] = ()
    """CPUs the process may run on (its affinity); () leaves it alone. Keeps it off the control loop's CPU."""
    fifo_priority: int = 0
    """SCHED_FIFO priority of the whole process (DDS threads included) once its node is built: passed in
    `environment` (physai.ros.node_main applies it after start-up work, which at FIFO would take the CPUs from
    the loops already running); 0 leaves normal scheduling."""
    actuator: bool = False
    """Actuator-facing (sim_node, driver_node, motor_sim_node): another node's death never stops it (its
    SafetyGuard damps on its own), only an operator stop does; its own exit ends the launch (`ros2 launch`:
    an OnProcessExit → Shutdown handler), normally when it has finished its job (exit 0 at sim_time)."""
    required: bool = False
    """Its exit ends the launch too (launch_ros: OnProcessExit → Shutdown): a lockstep policy_node without
    respawn, since sim time cannot advance without it."""
    respawn: bool = False
    """Restart the process `respawn_delay_s` after it exits (launch_ros Node(respawn=True)); never for an
    actuator node."""
    respawn_delay_s: float = 2.0
    """Seconds between the exit and the restart (launch_ros respawn_delay)."""
    keyboard: bool = False
    """Reads keys on stdin (teleop:=keyboard): `physai launch` relays its terminal's keys to it; `ros2 launch`
    gives it its own terminal (launch_ros prefix `xterm -e`)."""

    @property
    def environment(self) -> dict[str, str]:
        """Environment variables the process needs on top of the launch's (launch_ros `additional_env`)."""
        return {FIFO_PRIORITY_ENV: str(self.fifo_priority)} if self.fifo_priority else {}

    def __post_init__(self) -> None:
        if self.respawn and self.actuator:
            raise ValueError(f"{self.name}: an actuator node is never respawned; its guard stays in damping")
        if not (self.respawn_delay_s >= 0):
            raise ValueError(f"{self.name}: respawn_delay_s is {self.respawn_delay_s!r}; expected a number ≥ 0")


AUTO_PIN_MIN_CPUS = 3
"""loop_cpu:=auto pins the loop only with this many allowed CPUs. With 2, policy_node, the recorder, the teleop
and the loop node's own threads share the one CPU left; a burst of hypervisor steal on it held the policy 120 ms
(CI, keyboard teleop run) while the loop's CPU sat mostly idle, and the guard timed out into damping."""


LOOP_CPU_HELP = (
    "CPU the control loop runs on alone, every other process and thread kept off it: auto = the last allowed CPU "
    f"when there are {AUTO_PIN_MIN_CPUS} or more (with fewer, the nodes left on one CPU stall the policy), "
    "none = no pinning, or a CPU index"
)

RESPAWN_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "respawn": (False, "restart policy_node after it dies; the actuator side stays in damping until re-armed"),
    "respawn_delay": (2.0, "seconds between policy_node's exit and its restart"),
}
"""Launch arguments of every set with a policy node (launch_ros Node respawn / respawn_delay)."""

TELEOP_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "teleop": (
        "",
        "a teleop_node on /cmd_vel: keyboard (teleop_twist_keyboard keys from this terminal), joy (sensor_msgs/Joy "
        "on /joy, deadman held) or script:FILE (YAML timeline of t, vx, vy, yaw_rate); empty: none",
    ),
}
"""Launch arguments of every set with a policy node: who drives /cmd_vel."""

RECORD_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "record": ("", "bag directory to record every topic into (rosbag2 MCAP; x.mcap: the bag x); empty: none"),
    "record_topics": ("", "comma-separated topics to record (empty: all physai topics but the camera)"),
    "record_compressed": (
        False,
        "store /camera/image_raw as JPEG sensor_msgs/CompressedImage on /camera/image_raw/compressed",
    ),
}
"""Launch arguments of every set: a recorder_node when `record` is given."""


def node_arguments(cls: type, *names: str) -> dict[str, tuple[Any, str]]:
    """Launch arguments that are node parameters of the same name: (default, docstring) from the node's config.

    The config dataclass (physai.ros.node_config) is the only source of both, so `physai launch --help`,
    the launch files and `ros2 param describe` cannot disagree.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    docs = field_docs(cls)
    return {name: (defaults[name], docs[name]) for name in names}


LAUNCH_ARGUMENTS: dict[str, dict[str, tuple[Any, str]]] = {
    "sim": {
        **node_arguments(SimNodeConfig, "robot"),
        "policy": ("", "policy.onnx run by policy_node (its contract gives gains and rates); empty: no policy node"),
        **node_arguments(SimNodeConfig, "mode", "scene", "seed", "timeout_s", "soft_start_s", "realtime_priority"),
        **node_arguments(SimNodeConfig, "reset_noise_rad", "estop_stop"),
        "loop_cpu": ("auto", LOOP_CPU_HELP),
        **node_arguments(SimNodeConfig, "max_sim_time_s", "push_velocity_m_s", "push_interval_s", "push_schedule"),
        **node_arguments(
            SimNodeConfig,
            "camera",
            "camera_rate_hz",
            "camera_width",
            "camera_height",
            "camera_noise",
            "target_cube_pos",
        ),
        "perception": (
            "",
            "aruco: a perception_node publishing the marker target on /target_pose from the camera; empty: none",
        ),
        **node_arguments(PolicyNodeConfig, "target_pos"),
        **RECORD_ARGUMENTS,
        **RESPAWN_ARGUMENTS,
        **TELEOP_ARGUMENTS,
    },
    "hil": {
        **node_arguments(DriverNodeConfig, "robot"),
        "policy": ("", "policy.onnx run by policy_node (its contract gives gains and rates); empty: no policy node"),
        **node_arguments(DriverNodeConfig, "hardware", "rate_hz", "timeout_s", "realtime_priority", "estop_stop"),
        "loop_cpu": ("none", LOOP_CPU_HELP + " (for driver_node; none by default: the plant must keep real time too)"),
        **node_arguments(MotorSimNodeConfig, "bus_channel", "faults", "seed", "max_sim_time_s", "push_velocity_m_s"),
        **RECORD_ARGUMENTS,
        **RESPAWN_ARGUMENTS,
        **TELEOP_ARGUMENTS,
    },
    "robot": {
        **node_arguments(DriverNodeConfig, "robot"),
        "policy": ("", "policy.onnx run by policy_node; empty: no policy (the driver holds damping)"),
        **node_arguments(DriverNodeConfig, "hardware", "rate_hz", "timeout_s", "realtime_priority", "estop_stop"),
        "loop_cpu": ("auto", LOOP_CPU_HELP),
        **node_arguments(PolicyNodeConfig, "target_pos"),
        **RECORD_ARGUMENTS,
        **RESPAWN_ARGUMENTS,
        **TELEOP_ARGUMENTS,
    },
}
"""Per set: argument → (default, help). Values given as strings are converted to the default's type."""
MARKER_SCENE_ARGUMENTS: dict[str, str] = {
    "robot": "testbed_arm",
    "scene": "marker_cube",
    "camera": "scene_cam",
    "camera_width": "640",
    "camera_height": "480",
}
"""The sim set's vision scene: testbed_arm before the ArUco marker cube, seen by scene_cam at 640×480 (with
perception:=aruco, the bench's and tests' marker-to-/target_pose run)."""

NODE_CONFIGS: dict[str, tuple[type, ...]] = {
    "sim": (SimNodeConfig,),
    "hil": (DriverNodeConfig, MotorSimNodeConfig),
    "robot": (DriverNodeConfig,),
}
"""Per set: the configs of its actuator-side nodes, whose checks the launch arguments pass before any node starts."""
SET_ARGUMENTS = ("policy", "loop_cpu", "perception", *RECORD_ARGUMENTS, *RESPAWN_ARGUMENTS, *TELEOP_ARGUMENTS)
"""Arguments about the set as a whole (which nodes run, where, recorded, respawned); every other argument is a
node parameter of the same name, with that node's default and docstring (`node_arguments`)."""


def _sim(args: Mapping[str, Any]) -> list[NodeLaunch]:
    lockstep = args["mode"] == "lockstep"
    args = {**args, "sim_time": True}  # sim_node publishes /clock: a teleop script follows sim time
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
                "reset_noise_rad": args["reset_noise_rad"],
                "timeout_s": args["timeout_s"],
                "push_velocity_m_s": args["push_velocity_m_s"],
                "push_interval_s": args["push_interval_s"],
                "push_schedule": args["push_schedule"],
                "soft_start_s": args["soft_start_s"],
                "estop_stop": args["estop_stop"],
                "max_sim_time_s": args["max_sim_time_s"],
                "realtime_priority": args["realtime_priority"],
                "loop_cpu": args["loop_cpu"],
                "camera": args["camera"],
                "camera_rate_hz": args["camera_rate_hz"],
                "camera_width": args["camera_width"],
                "camera_height": args["camera_height"],
                "camera_noise": args["camera_noise"],
                "target_cube_pos": args["target_cube_pos"],
                "state_subscribers": int(bool(args["policy"])) + _records(args, "/joint_states"),
                **_recorder_wait(args, ("/odom", "/joint_states", "/imu/data", "/clock", "/diagnostics")),
            },
            actuator=True,
        )
    ]
    if args["perception"]:
        if args["perception"] != "aruco" or not args["camera"]:
            raise ValueError(f"argument perception:={args['perception']!r}; expected aruco, with camera:=NAME")
        from physai.robot import RobotSpec
        from physai.sim.cameras import camera_in_base, pose_parameter  # MuJoCo here, so the node needs none
        from physai.sim.marker import CUBE_HALF_M

        pose = pose_parameter(camera_in_base(RobotSpec.load(args["robot"]), args["camera"], args["scene"]))
        params = {  # images carry sim time; the target is the marker cube's centre, as target_cube_pos places it
            "robot": args["robot"],
            "camera_pose": pose,
            "use_sim_time": True,
            "target_depth_m": CUBE_HALF_M,
        }
        nodes.append(NodeLaunch("perception_node", "perception_node", "physai.ros.perception_node", params))
    reliable = ("/joint_states", "/imu/data", "/odom") if lockstep else ()  # qos.LOCKSTEP_STATE
    return _policy_and_recorder(args, nodes, "state" if lockstep else "timer", plant_waits=lockstep, reliable=reliable)


def _records(args: Mapping[str, Any], topic: str) -> int:
    """1 if the launch records `topic` (the sim / plant then waits for the recorder to see it), else 0."""
    if not args.get("record"):
        return 0
    chosen = [t.strip() for t in args.get("record_topics", "").split(",") if t.strip()]
    return int(not chosen or topic in chosen)


def _recorder_wait(args: Mapping[str, Any], published: tuple[str, ...]) -> dict[str, Any]:
    """Parameters that make a loop node wait for the recorder: the first of its `published` topics recorded."""
    topic = next((t for t in published if _records(args, t)), published[0])
    return {"record_subscribers": _records(args, topic), "record_topic": topic}


HIL_PRIORITIES = {"motor_sim_node": 60, "driver_node": 60, "policy_node": 85, "recorder_node": 20}
"""SCHED_FIFO priority of each hil process once its node is built, DDS threads included (realtime_priority:=true). The
plant and driver loops (80) and their callbacks (70) share both CPUs with everything else there: the policy is
above them (a step is ~1 ms at 50 Hz; at 65, below them, steps were held back past the 50 ms command timeout
and latched the robot into damping), their DDS threads just below, so commands and replies are delivered while
the loops keep the CPUs busy; the recorder above ordinary processes. Keep the set small: on Linux ≥ 6.12 the
fair server gives ordinary tasks that real-time ones starve up to 50 ms of every second, preempting even FIFO
99 (measured here: 33–35 ms stalls of a FIFO-99 sleeper, one second apart)."""


def _policy_and_recorder(
    args: Mapping[str, Any],
    nodes: list[NodeLaunch],
    trigger: str = "timer",
    plant_waits: bool = False,
    reliable: tuple[str, ...] = (),
) -> list[NodeLaunch]:
    """Append policy_node and prepend recorder_node as the arguments ask.

    `plant_waits`: the plant stands still until the policy commands (lockstep, a HIL gantry), so the policy waits
    for its input nodes. `reliable`: state topics whose publisher offers reliable (a lockstep sim), which the recorder
    then subscribes reliable.
    """
    # lockstep with a script: one stamped command per state's time, so the run follows the script exactly
    stamped = trigger == "state" and str(args["teleop"]).startswith("script:")
    if args["policy"]:
        params = {"policy": args["policy"], "robot": args["robot"], "trigger": trigger, "cmd_vel_stamped": stamped}
        if _reads_target(args["policy"]):
            if not args.get("target_pos") and not args.get("perception"):
                raise ValueError(
                    f"argument target_pos:= is needed: {args['policy']} reads a reaching target; expected "
                    "target_pos:=[x,y,z] (base frame, m) or perception:=aruco for /target_pose"
                )
            params["target_pos"] = args.get("target_pos", "")
        if trigger == "state":
            params["command_subscribers"] = 1 + _records(args, "/joint_commands")
        if plant_waits:
            inputs = ["/cmd_vel"] * bool(args["teleop"]) + ["/target_pose"] * bool(args.get("perception"))
            params["await_inputs"] = ",".join(inputs)  # the run starts once its input nodes are up
        respawn = {"respawn": args["respawn"], "respawn_delay_s": args["respawn_delay"]}
        required = trigger == "state" and not args["respawn"]  # lockstep: nothing advances without it
        nodes.append(
            NodeLaunch("policy_node", "policy_node", "physai.ros.policy_node", params, required=required, **respawn)
        )
    if args["teleop"]:
        nodes.append(_teleop(args["teleop"], bool(args.get("sim_time")), stamped))
    if args["record"]:
        params = {
            "bag": args["record"],
            "topics": args["record_topics"],
            "compress_images": args["record_compressed"],
            "cmd_vel_stamped": stamped,
            "reliable_topics": ",".join(t for t in reliable if _records(args, t)),
        }
        nodes.insert(0, NodeLaunch("recorder_node", "recorder_node", "physai.ros.recorder_node", params, True))
    return nodes


def _reads_target(policy: str) -> bool:
    """Whether the policy's contract has a reaching-target input (a missing file: policy_node refuses it)."""
    from physai.contract import read_from_onnx

    if not Path(policy).is_file():
        return False
    return any(t.definition.source == "inputs.target_pos" for t in read_from_onnx(policy).observation)


def _teleop(teleop: str, sim_time: bool, stamped: bool) -> NodeLaunch:
    """teleop_node for teleop:=keyboard | joy | script:FILE (checked by resolve_arguments)."""
    source, _, script = teleop.partition(":")
    params: dict[str, Any] = {"source": source, "use_sim_time": sim_time, "stamped": stamped}
    if script:
        params["script"] = str(Path(script).resolve())
    return NodeLaunch("teleop_node", "teleop_node", "physai.ros.teleop_node", params, keyboard=source == "keyboard")


def _driver(args: Mapping[str, Any], bus: Mapping[str, str]) -> NodeLaunch:
    params = {
        "robot": args["robot"],
        "hardware": args["hardware"],
        "policy": args["policy"],
        "rate_hz": args["rate_hz"],
        "timeout_s": args["timeout_s"],
        "estop_stop": args["estop_stop"],
        "realtime_priority": args["realtime_priority"],
        "loop_cpu": args["loop_cpu"],
        **bus,
    }
    return NodeLaunch("driver_node", "driver_node", "physai.ros.driver_node", params, actuator=True)


def _hil(args: Mapping[str, Any]) -> list[NodeLaunch]:
    args = {**args, "sim_time": True}  # the plant publishes /clock from its release off the gantry: a script waits
    bus = {"bus_interface": "datagram", "bus_channel": args["bus_channel"]}
    plant = {
        "robot": args["robot"],
        "hardware": args["hardware"],
        "faults": args["faults"],
        "push_velocity_m_s": args["push_velocity_m_s"],
        "max_sim_time_s": args["max_sim_time_s"],
        "seed": args["seed"],
        "realtime_priority": args["realtime_priority"],
        **_recorder_wait(args, ("/odom", "/imu/data", "/clock", "/diagnostics")),
        **bus,
    }
    plant_node = NodeLaunch("motor_sim_node", "motor_sim_node", "physai.ros.motor_sim_node", plant, actuator=True)
    nodes = [plant_node, _driver(args, bus)]
    nodes = _policy_and_recorder(args, nodes, plant_waits=True)
    return (
        [replace(n, fifo_priority=HIL_PRIORITIES.get(n.name, 0)) for n in nodes] if args["realtime_priority"] else nodes
    )


def _robot(args: Mapping[str, Any]) -> list[NodeLaunch]:
    return _policy_and_recorder(args, [_driver(args, {})])


BRINGUPS: dict[str, Callable[[Mapping[str, Any]], list[NodeLaunch]]] = {"sim": _sim, "hil": _hil, "robot": _robot}
NETNS_BRINGUPS = ("hil",)
"""Sets whose virtual CAN bus (udp_multicast) must stay inside a private network namespace."""


def resolve_arguments(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in and strings converted; ValueError naming an unknown argument or a bad value."""
    if name not in BRINGUPS:
        raise ValueError(f"unknown bringup {name!r}; expected one of {', '.join(BRINGUPS)}")
    declared = LAUNCH_ARGUMENTS[name]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown} for bringup {name!r}; expected {', '.join(declared)}")
    out = {key: _typed(key, given.get(key, default), default) for key, (default, _) in declared.items()}
    if not out["respawn_delay"] >= 0:  # NaN too
        raise ValueError(f"argument respawn_delay:={out['respawn_delay']!r}; expected seconds ≥ 0")
    for cls in NODE_CONFIGS[name]:  # the nodes' own checks, before any of them starts
        fields = {f.name for f in dataclasses.fields(cls)}
        try:
            cls(**{k: v for k, v in out.items() if k in fields and k not in SET_ARGUMENTS})
        except FieldError as err:
            raise _as_argument(err, given, out) from None
    try:
        parse_target(str(out.get("target_pos", "")))
    except FieldError as err:
        raise _as_argument(err, given, out) from None
    if name == "sim" and out["mode"] == "lockstep" and not out["policy"]:
        raise ValueError("argument mode:=lockstep needs policy:=... (sim_node steps only when a policy answers)")
    teleop = str(out["teleop"])
    source, _, script = teleop.partition(":")
    if teleop and (source not in TELEOP_SOURCES or bool(script) != (source == "script")):
        raise ValueError(f"argument teleop:={teleop!r}; expected keyboard, joy or script:FILE")
    if script and not Path(script).is_file():
        raise ValueError(f"argument teleop:={teleop!r}: the script {script} does not exist")
    if teleop and not out["policy"]:
        raise ValueError(f"argument teleop:={teleop!r} needs policy:=... (policy_node reads /cmd_vel)")
    out["record"] = bag_directory(str(out["record"]))  # record:=run.mcap → the bag directory run (run/run_0.mcap)
    out["loop_cpu"] = resolve_loop_cpu(str(out["loop_cpu"]))
    if out.get("mode") == "lockstep":  # no loop to protect: the round trip runs in callbacks, on every CPU
        out["loop_cpu"] = -1
    return out


def _as_argument(err: FieldError, given: Mapping[str, Any], out: Mapping[str, Any]) -> ValueError | FieldError:
    """A node's parameter error in the words of the launch argument that set it (others: unchanged)."""
    if err.field.split("[")[0] not in out:
        return err
    return ValueError(f"argument {err.field}:={given.get(err.field, err.value)!s}; expected {err.expected}")


def _typed(key: str, value: Any, default: Any) -> Any:
    """A launch argument given as a string, converted to its default's type; ValueError naming it."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    parsed = parse_value(value) if value.strip() else None
    if isinstance(default, bool):
        ok = isinstance(parsed, bool)
    elif isinstance(default, float):
        ok = isinstance(parsed, (int, float)) and not isinstance(parsed, bool)
    else:
        ok = isinstance(parsed, type(default)) and not isinstance(parsed, bool)
    if not ok:
        kinds = {bool: "true or false", int: "a whole number", float: "a number"}
        raise ValueError(f"argument {key}:={value}; expected {kinds.get(type(default), type(default).__name__)}")
    return type(default)(parsed)


def resolve_loop_cpu(value: str, allowed: set[int] | None = None) -> int:
    """The launch argument loop_cpu as a CPU index, or -1 for no pinning (see LOOP_CPU_HELP).

    `allowed` is the CPUs this process may use (default: its affinity). ValueError naming a bad value.
    """
    cpus = sorted(os.sched_getaffinity(0) if allowed is None else allowed)
    if value == "none":
        return -1
    if value == "auto":
        return cpus[-1] if len(cpus) >= AUTO_PIN_MIN_CPUS else -1
    try:
        cpu = int(value)
    except ValueError:
        cpu = -1
    if cpu not in cpus:
        raise ValueError(f"argument loop_cpu:={value!r}; expected auto, none or one of the allowed CPUs {cpus}")
    return cpu


def bringup(name: str, given: Mapping[str, Any]) -> list[NodeLaunch]:
    """The nodes of set `name` for the given launch arguments (see LAUNCH_ARGUMENTS).

    With a loop CPU, every node's process is kept on the other CPUs; the loop node's loop thread alone moves
    onto the loop CPU (its `loop_cpu` parameter).
    """
    args = resolve_arguments(name, given)
    nodes = BRINGUPS[name](args)
    if args["loop_cpu"] < 0:
        return nodes
    return [replace(node, cpus=other_cpus(args["loop_cpu"])) for node in nodes]


def other_cpus(loop_cpu: int) -> tuple[int, ...]:
    """The CPUs this process may use, but `loop_cpu`; () when there is no loop CPU (-1): leave affinity alone."""
    return tuple(sorted(os.sched_getaffinity(0) - {loop_cpu})) if loop_cpu >= 0 else ()


def params_yaml(nodes: list[NodeLaunch]) -> str:
    """The standard ROS 2 params file for these nodes: {node: {ros__parameters: {...}}}."""
    return yaml.safe_dump({n.name: {"ros__parameters": n.parameters} for n in nodes}, sort_keys=False)
