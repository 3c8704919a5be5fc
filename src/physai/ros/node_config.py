"""Every node's parameters as a dataclass: defaults, types and docs in one place (no rclpy, no MuJoCo).

The nodes declare them (physai.ros.params: the field docstrings become `ros2 param describe` descriptions)
and the bringup sets take their launch arguments' defaults and help from them (physai.bringup.sets), so a
default lives here only. Importing this module is light: `physai launch` reads it without rclpy or MuJoCo.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from physai.control import GuardConfig
from physai.control.teleop import JoyMapping
from physai.drivers.monitor import MonitorConfig
from physai.errors import FieldError
from physai.values import finite_numbers

if TYPE_CHECKING:
    from physai.vision.noise import ImageNoise
    from physai.vision.target_filter import MedianTarget


class NodeParameterError(FieldError):
    """A node parameter with a value the node cannot run with (the launcher names the launch argument instead)."""

    kind = "parameter"


def _check(value: Any, ok: bool, name: str, expected: str) -> None:
    if not ok:
        raise NodeParameterError("", name, value, expected)


def _check_guard(cfg: Any) -> None:
    """The SafetyGuard settings of a node's parameters, checked where they are declared (GuardConfig's rules)."""
    try:
        cfg.guard_config()
    except FieldError as err:
        raise NodeParameterError("", err.field, err.value, err.expected) from None


def _check_run_limits(cfg: Any) -> None:
    """max_sim_time_s ≥ 0 and the push settings of sim_node and motor_sim_node."""
    for name in ("max_sim_time_s", "push_velocity_m_s"):
        value = getattr(cfg, name)
        _check(
            value, math.isfinite(value) and value >= 0, name, "seconds ≥ 0 (0: none)" if "time" in name else "m/s ≥ 0"
        )
    _check(
        cfg.push_interval_s,
        math.isfinite(cfg.push_interval_s) and cfg.push_interval_s > 0,
        "push_interval_s",
        "seconds > 0",
    )


def parse_target(text: str) -> tuple[float, float, float] | None:
    """`target_pos` ("[x, y, z]" m, base frame) as a tuple; None when empty; NodeParameterError otherwise."""
    if not text.strip():
        return None
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        values = None
    numbers = finite_numbers(values, 3)
    if numbers is None:
        raise NodeParameterError("", "target_pos", text, "[x, y, z] in the base frame (m), three finite numbers")
    return numbers


def parse_push_schedule(text: str) -> list[tuple[float, float, float]]:
    """`push_schedule` as [(time_s, dvx_m_s, dvy_m_s), ...]; NodeParameterError naming the bad entry."""
    if not text:
        return []
    expected = "JSON [[time_s, dvx_m_s, dvy_m_s], ...] with finite numbers and time_s ≥ 0"
    try:
        entries = json.loads(text)
    except json.JSONDecodeError:
        raise NodeParameterError("", "push_schedule", text, expected) from None
    if not isinstance(entries, list):
        raise NodeParameterError("", "push_schedule", text, expected)
    out = []
    for i, entry in enumerate(entries):
        numbers = finite_numbers(entry, 3)
        if numbers is None or numbers[0] < 0:
            raise NodeParameterError("", f"push_schedule[{i}]", entry, expected)
        out.append(numbers)
    return out


# ---- sim_node --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimNodeConfig:
    """Parameters of sim_node."""

    robot: str = "testbed_biped"
    """Robot name or robot.yaml path."""
    scene: str = "flat"
    """Scene in sim_envs/scenes or an MJCF path."""
    policy: str = ""
    """policy.onnx whose contract gives kp/kd, control and physics periods ("" → robot.yaml gains, 0.02 s, 0.002 s)."""
    mode: str = "realtime"
    """realtime | lockstep."""
    timeout_s: float = GuardConfig.timeout_s
    """Command timeout → damping (s)."""
    soft_start_s: float = GuardConfig.soft_start_s
    """Ramp from the measured pose to the first command (s)."""
    damping_kd_scale: float = GuardConfig.damping_kd_scale
    """Damping gain = this × default kd."""
    estop_stop: str = "hold"
    """What /estop does: hold (the pose at that moment, robot.yaml gains: the robot stays up) or damping."""
    seed: int = 0
    """Reset seed."""
    reset_noise_rad: float = 0.0
    """Uniform joint noise at reset (rad)."""
    imu_frame: str = "imu_link"
    """frame_id of /imu/data and child frame of /odom."""
    realtime_priority: bool = True
    """Try SCHED_FIFO / mlockall for the physics loop (reported in /diagnostics when refused)."""
    camera: str = ""
    """/camera/image_raw + camera_info: an MJCF camera name, "tracking" (follows the base), or "" for none."""
    target_cube_pos: str = ""
    """Scenes with the ArUco target cube (marker_cube): its centre in the robot's base frame at reset, "[x, y, z]"
    (m), its marker turned to `camera`; "" leaves it where the scene puts it."""
    camera_rate_hz: float = 10.0
    """Camera images per second (≤ 30; rendered in their own thread, skipped when rendering is slower)."""
    camera_width: int = 320
    """Image width (pixels)."""
    camera_height: int = 240
    """Image height (pixels)."""
    camera_noise: str = ""
    """Lighting and camera noise on the images, "brightness=LO:HI,blur=LO:HI,noise=STD" (gain, Gaussian blur sigma
    px, sensor noise grey levels; physai.vision.ImageNoise), drawn per image from `seed`; "" = none."""
    loop_cpu: int = -1
    """CPU the control loop's thread runs on alone (the launcher keeps other processes off it); -1 = not pinned."""
    diagnostics_period_s: float = 0.5
    """Period of /diagnostics (s); a guard mode change is also published at once."""
    push_velocity_m_s: float = 0.0
    """Disturbances: horizontal base velocity change of each push (m/s, random direction); 0 = none."""
    push_interval_s: float = 3.0
    """Sim time between pushes (s)."""
    push_schedule: str = ""
    """Exact pushes instead: JSON [[time_s, dvx_m_s, dvy_m_s], ...] (sim2sim replays an env episode's pushes)."""
    max_sim_time_s: float = 0.0
    """Exit cleanly (code 0) once sim time reaches this (s); 0 = run until shut down."""
    state_subscribers: int = 0
    """Sim time starts only once this many subscribers (policy, recorder, …) see /joint_states and /imu/data
    (0: at once). Realtime too: a policy process slower to start than the sim would otherwise find the robot
    fallen in the guard's start-up damping (ci254: first command at 1.9 s of sim time, down at 1.0 s)."""
    record_subscribers: int = 0
    """Sim time starts only once this many subscribers (a recorder) see `record_topic`, so a recording holds the
    run from sim time 0 (lockstep: the first state waits for them)."""
    record_topic: str = "/odom"
    """The published topic whose subscribers `record_subscribers` counts (one the recorder records)."""

    def guard_config(self) -> GuardConfig:
        """The SafetyGuard settings of these parameters."""
        return GuardConfig(self.timeout_s, self.damping_kd_scale, self.soft_start_s, estop_stop=self.estop_stop)

    def __post_init__(self) -> None:
        _check(self.mode, self.mode in ("realtime", "lockstep"), "mode", "realtime or lockstep")
        _check_guard(self)
        _check_run_limits(self)
        parse_push_schedule(self.push_schedule)
        try:
            parse_target(self.target_cube_pos)
        except FieldError as err:
            raise NodeParameterError("", "target_cube_pos", err.value, err.expected) from None
        rate = self.camera_rate_hz
        _check(rate, math.isfinite(rate) and 0 < rate <= 30, "camera_rate_hz", "a rate in (0, 30] Hz")
        for name in ("camera_width", "camera_height"):
            value = getattr(self, name)
            _check(value, 16 <= value <= 4096, name, "16–4096 pixels")
        if self.camera_noise:
            self.image_noise()

    def image_noise(self) -> ImageNoise:
        """`camera_noise` parsed (NodeParameterError naming it when malformed)."""
        from physai.vision.noise import ImageNoise  # OpenCV: only for a node that renders images

        try:
            return ImageNoise.parse(self.camera_noise, "camera_noise")
        except FieldError as err:
            raise NodeParameterError("", err.field, err.value, err.expected) from None


# ---- driver_node -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverNodeConfig:
    """Parameters of driver_node."""

    robot: str = "testbed_biped"
    """Robot name or robot.yaml path."""
    hardware: str = ""
    """Hardware YAML ("" → robot_descriptions/<robot>/hardware.yaml)."""
    policy: str = ""
    """policy.onnx whose contract supplies kp/kd ("" → robot.yaml gains)."""
    bus_interface: str = ""
    """Override of every bus's interface (e.g. datagram for HIL; see physai.drivers.link.open_links)."""
    bus_channel: str = ""
    """Override of the buses' channel (datagram: "group[:port]", all buses on it)."""
    rate_hz: float = 500.0
    """Control loop rate (Hz), 500–1000."""
    timeout_s: float = GuardConfig.timeout_s
    """Command timeout → damping (s)."""
    soft_start_s: float = GuardConfig.soft_start_s
    """Ramp from the measured pose to the first command (s)."""
    damping_kd_scale: float = GuardConfig.damping_kd_scale
    """Damping gain = this × default kd."""
    estop_stop: str = GuardConfig.estop_stop
    """What /estop does: damping (kp = 0, the motors only brake) or hold (the pose at that moment, robot.yaml gains)."""
    max_temperature_c: float = MonitorConfig.max_temperature_c
    """A motor hotter than this trips the guard (°C)."""
    max_jump_rad: float = MonitorConfig.max_jump_rad
    """A position change larger than this between two loop ticks trips the guard (rad)."""
    frozen_window_s: float = MonitorConfig.frozen_window_s
    """A motor whose replies stay bit-identical this long (s) after the torque its command asks for has moved by
    more than `frozen_torque_spread_nm` is frozen (a healthy drive's position or current readings would change;
    ticks without a reply do not count, see physai.drivers.monitor)."""
    frozen_torque_spread_nm: float = MonitorConfig.frozen_torque_spread_nm
    """Spread of the commanded PD torque (N·m) that a live motor cannot hide behind identical replies."""

    startup_timeout_s: float = 15.0
    """Every motor must answer within this after enabling (s); the loop arms nothing before they all have."""
    realtime_priority: bool = True
    """Try SCHED_FIFO / mlockall for the loop (reported in /diagnostics when refused)."""
    loop_cpu: int = -1
    """CPU the control loop's thread runs on alone (the launcher keeps other processes off it); -1 = not pinned."""
    diagnostics_period_s: float = 0.5
    """Period of /diagnostics (s); guard mode changes are published at once."""

    def guard_config(self) -> GuardConfig:
        """The SafetyGuard settings of these parameters."""
        return GuardConfig(self.timeout_s, self.damping_kd_scale, self.soft_start_s, estop_stop=self.estop_stop)

    def __post_init__(self) -> None:
        _check(self.rate_hz, 100.0 <= self.rate_hz <= 2000.0, "rate_hz", "100–2000 Hz (500–1000 typical)")
        _check_guard(self)


# ---- policy_node -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyNodeConfig:
    """Parameters of policy_node."""

    policy: str = ""
    """policy.onnx with an embedded physai contract (required)."""
    robot: str = ""
    """Robot the policy must fit ("" → the contract's robot)."""
    trigger: str = "timer"
    """timer | state."""
    stale_timeout_s: float = 0.1
    """Inputs older than this (s, wall clock) stop the commands."""
    cmd_vel_timeout_s: float = 0.5
    """A /cmd_vel older than this (s) counts as zero velocity."""
    cmd_vel_stamped: bool = False
    """/cmd_vel is geometry_msgs/TwistStamped (teleop_twist_keyboard's `stamped`), not Twist. State trigger: a
    state is answered once a command stamped at or after its time is in (a teleop script on sim time sends one
    per /clock), so a lockstep run follows the script exactly, however fast the host runs it."""
    diagnostics_period_s: float = 0.5
    """Period of /diagnostics (s)."""
    command_subscribers: int = 1
    """State trigger: answer only once this many readers (actuator node, recorder, …) match /joint_commands."""
    await_inputs: str = ""
    """Command nothing until each of these input topics, comma-separated (/cmd_vel of a teleop_node, /target_pose
    of a perception_node), has a writer: a run whose plant waits for the policy (lockstep, a HIL gantry) starts
    when its inputs are up, not at a sim time that depends on how fast they started."""
    target_pos: str = ""
    """Reaching policies: the target in the base frame, "[x, y, z]" (m); /target_pose (PoseStamped, base frame)
    replaces it when published; "" → wait for /target_pose."""

    @property
    def target(self) -> tuple[float, float, float] | None:
        """`target_pos` as (x, y, z) m, None when empty."""
        return parse_target(self.target_pos)

    def __post_init__(self) -> None:
        parse_target(self.target_pos)
        if not self.policy:
            raise ValueError("parameter 'policy' is empty; expected the path of a policy.onnx")
        if self.trigger not in ("timer", "state"):
            raise ValueError(f"parameter 'trigger' is {self.trigger!r}; expected timer or state")
        unknown = set(self.awaited_inputs) - {"/cmd_vel", "/target_pose"}
        if unknown:
            raise ValueError(f"parameter 'await_inputs' names {sorted(unknown)}; expected /cmd_vel and /target_pose")

    @property
    def awaited_inputs(self) -> tuple[str, ...]:
        """`await_inputs` as topic names."""
        return tuple(t.strip() for t in self.await_inputs.split(",") if t.strip())


# ---- motor_sim_node --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MotorSimNodeConfig:
    """Parameters of motor_sim_node."""

    robot: str = "testbed_biped"
    """Robot name or robot.yaml path."""
    scene: str = "flat"
    """Scene of the plant."""
    hardware: str = ""
    """Hardware YAML ("" → robot_descriptions/<robot>/hardware.yaml)."""
    bus_interface: str = "datagram"
    """Interface of the virtual buses (datagram: batched frames with the wire time modelled)."""
    bus_channel: str = "239.74.163.2"
    """Multicast group[:port] of the virtual buses (all buses on it)."""
    faults: str = ""
    """Fault injection, "key=value,…" (physai.hil.faults.FaultConfig); times are plant seconds."""
    seed: int = 0
    """Seed of the plant reset and of the fault injection."""
    push_velocity_m_s: float = 0.0
    """Push disturbances on the plant: base velocity change per push (m/s), random direction; 0 = none."""
    push_interval_s: float = 3.0
    """Plant time between pushes (s)."""
    max_sim_time_s: float = 0.0
    """Exit cleanly (code 0) at this plant time (s); 0 = run until shut down."""
    imu_frame: str = "imu_link"
    """frame_id of /imu/data."""
    gantry: bool = True
    """Hold the plant still (time frozen at the start pose) until every motor is enabled and position-controlled
    (kp > 0, not just damping), like a robot lowered from its gantry once its controller is up."""
    realtime_priority: bool = True
    """Try SCHED_FIFO / mlockall for the plant loop."""
    record_subscribers: int = 0
    """The virtual motors power up (answer frames) only once this many subscribers (a recorder) see
    `record_topic`: the driver can enable them, and the plant leave its gantry, only then, so a recording holds
    the run from plant time 0."""
    record_topic: str = "/odom"
    """The published topic whose subscribers `record_subscribers` counts (one the recorder records)."""

    def __post_init__(self) -> None:
        _check_run_limits(self)
        from physai.hil.faults import FaultConfig  # its parser is the one rule for the faults string

        FaultConfig.parse(self.faults)


# ---- teleop_node ----------------------------------------------------------------------------------------
TELEOP_SOURCES = ("keyboard", "joy", "script")


@dataclass(frozen=True)
class TeleopNodeConfig:
    """Parameters of teleop_node."""

    source: str = "keyboard"
    """keyboard (teleop_twist_keyboard keys on this terminal) | joy (sensor_msgs/Joy on /joy) | script."""
    script: str = ""
    """source script: YAML list of {t: s, vx: m/s, vy: m/s, yaw_rate: rad/s}, piecewise constant."""
    rate_hz: float = 20.0
    """/cmd_vel publishing rate of keyboard and script (Hz of wall time; a script's t follows the node clock)."""
    stamped: bool = False
    """Publish geometry_msgs/TwistStamped (header.stamp: the node clock) instead of Twist, as teleop_twist_keyboard's
    `stamped`. A script on sim time then publishes once per /clock, stamped with it, instead of at rate_hz."""
    speed_m_s: float = 0.5
    """Keyboard: linear speed of a key press (m/s); q/z and w/x change it by 10 %."""
    turn_rad_s: float = 1.0
    """Keyboard: yaw rate of a key press (rad/s); q/z and e/c change it by 10 %."""
    deadman_button: int = JoyMapping.deadman_button
    """Joy: button that must be held for commands (-1: none)."""
    axis_vx: int = JoyMapping.axis_vx
    """Joy: axis of forward velocity."""
    axis_vy: int = JoyMapping.axis_vy
    """Joy: axis of lateral velocity."""
    axis_yaw: int = JoyMapping.axis_yaw
    """Joy: axis of yaw rate."""
    scale_vx_m_s: float = JoyMapping.scale_vx_m_s
    """Joy: forward velocity at full deflection (m/s)."""
    scale_vy_m_s: float = JoyMapping.scale_vy_m_s
    """Joy: lateral velocity at full deflection (m/s)."""
    scale_yaw_rad_s: float = JoyMapping.scale_yaw_rad_s
    """Joy: yaw rate at full deflection (rad/s)."""

    def __post_init__(self) -> None:
        if self.source not in TELEOP_SOURCES:
            raise ValueError(f"parameter 'source' is {self.source!r}; expected one of {', '.join(TELEOP_SOURCES)}")
        if self.source == "script" and not self.script:
            raise ValueError("parameter 'script' is empty; expected a YAML timeline for source script")
        if not self.rate_hz > 0:
            raise ValueError(f"parameter 'rate_hz' is {self.rate_hz!r}; expected a rate > 0 Hz")

    def joy_mapping(self) -> JoyMapping:
        """The Joy → command mapping of these parameters."""
        return JoyMapping(
            self.deadman_button,
            self.axis_vx,
            self.axis_vy,
            self.axis_yaw,
            self.scale_vx_m_s,
            self.scale_vy_m_s,
            self.scale_yaw_rad_s,
        )


TOPICS = {
    "/joint_states": "sensor_msgs/msg/JointState",
    "/joint_commands": "sensor_msgs/msg/JointState",
    "/imu/data": "sensor_msgs/msg/Imu",
    "/odom": "nav_msgs/msg/Odometry",
    "/cmd_vel": "geometry_msgs/msg/Twist",
    "/estop": "std_msgs/msg/Bool",
    "/clock": "rosgraph_msgs/msg/Clock",
    "/diagnostics": "diagnostic_msgs/msg/DiagnosticArray",
}
"""The DESIGN.md topic contract: what is recorded by default."""
CAMERA_TOPICS = {
    "/camera/image_raw": "sensor_msgs/msg/Image",
    "/camera/camera_info": "sensor_msgs/msg/CameraInfo",
}
"""Recorded only when named in `topics`: images are large."""
RECORDABLE = {**TOPICS, **CAMERA_TOPICS}
CMD_VEL_STAMPED = "geometry_msgs/msg/TwistStamped"
"""/cmd_vel's type where teleop_node and policy_node are `stamped` (a lockstep script)."""


# ---- recorder_node ---------------------------------------------------------------------------------------
DIAGNOSTICS_RELIABLE = ("/diagnostics",)
"""Recorded reliable always: every physai node publishes /diagnostics reliable (qos.RELIABLE), and a run's last
report (sim_node's at max_sim_time_s) is sent once, with the node waiting for its reliable readers only. A best-effort
recorder lost it on a loaded host (ci407: the bag's last sim_node report at sim time 19.67 s of a 20 s run)."""


@dataclass(frozen=True)
class RecorderNodeConfig:
    """Parameters of recorder_node."""

    bag: str = ""
    """Bag directory to create (rosbag2 layout: <bag>/<name>_0.mcap + metadata.yaml)."""
    topics: str = ""
    """Comma-separated topics of TOPICS or CAMERA_TOPICS to record ("" = all of TOPICS)."""
    poll_period_s: float = 0.005
    """How often waiting messages are taken (s); also the resolution of their receive times."""
    compress_images: bool = False
    """Store /camera/image_raw as sensor_msgs/CompressedImage JPEG on /camera/image_raw/compressed
    (image_transport's compressed convention) instead of raw rgb8: ~20× smaller bags."""
    jpeg_quality: int = 90
    """JPEG quality of compressed images (1–100)."""
    cmd_vel_stamped: bool = False
    """/cmd_vel is geometry_msgs/TwistStamped (teleop_node's `stamped`), not Twist."""
    reliable_topics: str = ""
    """Comma-separated recorded topics subscribed reliable, for publishers that offer it (sim_node's state topics in
    lockstep: a lost sample is sent again); the others are best effort, which matches any publisher, except
    DIAGNOSTICS_RELIABLE."""

    def __post_init__(self) -> None:
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"parameter 'jpeg_quality' is {self.jpeg_quality}; expected 1–100")
        if not self.bag:
            raise ValueError("parameter 'bag' is empty; expected a directory path for the recording")
        unknown = [t for t in self.selected() if t not in RECORDABLE]
        if unknown:
            raise ValueError(f"parameter 'topics' names {unknown}; expected a subset of {', '.join(RECORDABLE)}")
        stray = [t for t in self.reliable() if t not in self.selected() or t in CAMERA_TOPICS or t == "/estop"]
        if stray:
            raise ValueError(
                f"parameter 'reliable_topics' names {stray}; expected recorded topics other than the camera's and "
                "/estop (those follow their publishers)"
            )

    def selected(self) -> list[str]:
        """The topics to record."""
        return [t.strip() for t in self.topics.split(",") if t.strip()] or list(TOPICS)

    def reliable(self) -> list[str]:
        """The topics subscribed reliable: `reliable_topics`, and /diagnostics whenever it is recorded."""
        named = [t.strip() for t in self.reliable_topics.split(",") if t.strip()]
        return named + [t for t in DIAGNOSTICS_RELIABLE if t in self.selected() and t not in named]

    def type_of(self, topic: str) -> str:
        """The message type recorded on `topic` ("pkg/msg/Type")."""
        return CMD_VEL_STAMPED if topic == "/cmd_vel" and self.cmd_vel_stamped else RECORDABLE[topic]


# ---- launch_monitor --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchMonitorConfig:
    """Parameters of launch_monitor."""

    period_s: float = 1.0
    """Every node's latest status is published again at this period (s)."""

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            raise ValueError(f"parameter 'period_s' is {self.period_s!r}; expected seconds > 0")


# ---- perception_node -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PerceptionNodeConfig:
    """Parameters of perception_node."""

    robot: str = "testbed_arm"
    """Robot name or robot.yaml path (its base body names the frame of /target_pose)."""
    camera_pose: str = ""
    """The camera's pose in the base frame, "x y z qw qx qy qz" (m; MuJoCo camera frame: x right, y up, looking
    along −z). `physai launch` fills it from the MJCF (physai.sim.cameras); on a robot, from its calibration."""
    marker_id: int = 7
    """ArUco id (DICT_4X4_50) of the target (physai.vision.MARKER_ID)."""
    marker_size_m: float = 0.06
    """Edge of the marker's black square (m) (physai.vision.MARKER_SIZE_M)."""
    max_range_m: float = 3.0
    """A pose farther than this from the camera (m), or behind it, is implausible and not published."""
    target_depth_m: float = 0.0
    """The target lies this far behind the marker along the line of sight (m): half the depth of the object whose
    camera-facing side carries the marker, so /target_pose is the object's centre (`physai launch` sets the marker
    cube's half size, the point `target_cube_pos` places and `target_pos` names); 0 = the marker's centre."""
    median_of: int = 5
    """/target_pose is the median (per axis) of the last this many detections no older than `median_window_s`
    (physai.vision.MedianTarget); 1 = each detection as it is."""
    median_window_s: float = 1.0
    """Detections older than this (s of image stamps) behind the newest leave the median."""
    diagnostics_period_s: float = 0.5
    """Period of /diagnostics (s)."""

    def __post_init__(self) -> None:
        self.median_target()
        values = self.camera_pose.split()
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            numbers = []
        if len(numbers) != 7 or not all(math.isfinite(v) for v in numbers) or not 0.9 < math.hypot(*numbers[3:]) < 1.1:
            raise ValueError(
                f"parameter 'camera_pose' is {self.camera_pose!r}; expected 'x y z qw qx qy qz' (m, unit quaternion)"
            )
        if not (math.isfinite(self.target_depth_m) and self.target_depth_m >= 0):
            raise ValueError(f"parameter 'target_depth_m' is {self.target_depth_m!r}; expected a depth ≥ 0 m")
        if not (self.marker_size_m > 0 and self.max_range_m > 0):
            raise ValueError(
                f"marker_size_m {self.marker_size_m!r}, max_range_m {self.max_range_m!r}; expected lengths > 0 m"
            )

    def median_target(self) -> MedianTarget:
        """The MedianTarget of `median_of` and `median_window_s` (NodeParameterError naming the one out of range)."""
        from physai.vision.target_filter import MedianTarget  # physai.vision loads OpenCV: only when it is used

        try:
            return MedianTarget(self.median_of, self.median_window_s)
        except FieldError as err:
            name = {"count": "median_of", "window_s": "median_window_s"}[err.field]
            raise NodeParameterError("", name, err.value, err.expected) from None
