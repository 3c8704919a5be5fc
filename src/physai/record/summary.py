"""What happened in a recorded run, from the bag alone: duration, fall, loop lateness, guard events, inference."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from physai.record import diagnostics as status_names
from physai.record.reader import read_bag, velocity_command
from physai.record.walk_metrics import (
    DEFAULT_WINDOW_S,
    SETTLE_S,
    Segment,
    WalkLog,
    WalkMetrics,
    command_segments,
    walk_metrics,
)
from physai.robot.state import FALL, tilt_rad


@dataclass
class RunSummary:
    """Facts about one run (figures from the last /diagnostics of each node)."""

    sim_seconds: float = 0.0
    """Sim time covered by /odom (s)."""
    messages: dict[str, int] = field(default_factory=dict)
    """Messages per topic."""
    start_height_m: float = float("nan")
    min_height_m: float = float("nan")
    max_tilt_rad: float = 0.0
    fixed_base: bool = False
    """The recorded robot (found by its joint names) is fixed to the world: it cannot fall."""
    fell: bool = False
    """The base tilted or sank past physai.robot.state.FALL at any time (lowest height, largest tilt)."""
    diagnostics: dict[str, dict[str, str]] = field(default_factory=dict)
    """Last key/values per diagnostic status name."""
    mode_after_end: str = ""
    """The guard's mode once the run's clock had stopped (/odom's last message), when it changed after that: e.g.
    "fault" as the HIL plant, finished, stops answering; "" when it did not change."""
    crowded_topics: dict[str, str] = field(default_factory=dict)
    """Node → its "<node>: topics" message whenever it warned of a second publisher (another run on the domain)."""
    walk: WalkMetrics | None = None
    """Velocity tracking of /cmd_vel by /odom's twist (physai.record.walk_metrics), when /cmd_vel was recorded."""
    segments: list[Segment] = field(default_factory=list)
    """The recorded run's stretches of constant /cmd_vel with the velocity walked over each."""

    @property
    def host_stalls(self) -> dict[str, str]:
        """Status name → "N (longest X ms)" of every node whose loop found the host stalled (StallClock)."""
        out = {}
        for name, v in self.diagnostics.items():
            if v.get(status_names.HOST_STALLS, "0") != "0":
                longest = v.get(status_names.LONGEST_STALL_MS, "-")
                out[name.partition(":")[0]] = f"{v[status_names.HOST_STALLS]} (longest {longest} ms)"
        return out

    @property
    def guard(self) -> dict[str, str]:
        """The actuator node's guard status (sim_node's or driver_node's) as the run's clock stopped."""
        return self.diagnostics.get(status_names.SIM_SAFETY) or self.diagnostics.get(status_names.DRIVER_SAFETY, {})

    def table(self) -> str:
        """Human-readable summary."""
        sim = self.guard
        policy = self.diagnostics.get(status_names.POLICY, {})
        events = {
            k: v
            for k, v in sim.items()
            if (k.startswith(("rejected", "clamped")) or k in ("timeout", "estop")) and v != "0"
        }
        lines = [
            f"sim time            {self.sim_seconds:.2f} s",
            "robot               fixed base"
            if self.fixed_base
            else f"robot               {'FELL' if self.fell else 'stayed up'} (max tilt {self.max_tilt_rad:.3f} rad, "
            f"min base height {self.min_height_m:.3f} m of {self.start_height_m:.3f} m)",
            *_loop_lines(sim),
            f"safety guard        mode {sim.get(status_names.MODE, '-')}, accepted {sim.get('accepted', '-')}, events {events or 'none'}"
            + (f" (then {self.mode_after_end}, once the run's clock had stopped)" if self.mode_after_end else ""),
            f"policy inference    p50 {policy.get(status_names.INFERENCE_US_P50, '-')} µs, "
            f"p99 {policy.get(status_names.INFERENCE_US_P99, '-')} µs",
            "messages            " + ", ".join(f"{t} {n}" for t, n in sorted(self.messages.items())),
        ]
        lines += [f"CROSS-TALK          {node}: {message}" for node, message in self.crowded_topics.items()]
        if self.host_stalls:
            stalls = ", ".join(f"{node} {n}" for node, n in self.host_stalls.items())
            lines.append(f"host stalls         {stalls}: the host did not run; the watchdogs left that time out")
        if self.walk is not None:
            w = self.walk
            drift = "no stand command" if np.isnan(w.stand_drift_m_s) else f"{w.stand_drift_m_s:.3f} m/s"
            lines.insert(
                2,
                f"velocity tracking   linear {w.lin_vel_error_m_s:.3f} m/s, yaw rate {w.yaw_rate_error_rad_s:.3f} rad/s, "
                f"drift while standing {drift} ({DEFAULT_WINDOW_S:g} s averages, {SETTLE_S:g} s after each /cmd_vel change left out)",
            )
        return "\n".join(lines)


def _loop_lines(sim: dict[str, str]) -> list[str]:
    """Wake-up lateness of the node's timed loop; lockstep has none (physics steps once per command)."""
    if (
        sim.get(status_names.TICKS) == "0" and _seconds(sim.get(status_names.SIM_TIME_S)) > 0
    ):  # physics ran, the timed loop never did
        lines = ["sim loop lateness   does not apply (lockstep: physics steps once per command, no timed loop)"]
        if status_names.STATE_TO_COMMAND_US_P50 in sim:
            p50, p99 = sim[status_names.STATE_TO_COMMAND_US_P50], sim.get(status_names.STATE_TO_COMMAND_US_P99, "-")
            lines.append(f"state → command     p50 {p50} µs, p99 {p99} µs")
        return lines
    return [
        f"sim loop lateness   p50 {sim.get(status_names.LATENESS_P50_US, '-')} µs, "
        f"p99 {sim.get(status_names.LATENESS_P99_US, '-')} µs, max {sim.get(status_names.LATENESS_MAX_US, '-')} µs, "
        f"misses {sim.get(status_names.MISSES, '-')}"
    ]


def _seconds(value: str | None) -> float:
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def robot_of_bag(bag: str | Path) -> str:
    """The registered robot whose joints are those of the bag's first /joint_states; ValueError if none is."""
    from physai.robot import RobotSpec, available_robots

    first = next(iter(read_bag(bag, topics=["/joint_states"])), None)
    if first is None:
        raise ValueError(f"{bag}: no /joint_states recorded; expected a bag of a physai run")
    names = set(first.message.name)
    for name in available_robots():
        if set(RobotSpec.load(name).joint_names) == names:
            return name
    raise ValueError(f"{bag}: its joints {sorted(names)[:4]}… are no registered robot's (physai robots)")


def summarize(bag: str | Path) -> RunSummary:
    """Read a bag (finalized or not) and summarize it."""
    out = RunSummary()
    heights, tilts, stamps = [], [], []
    cmd_vel: np.ndarray | None = None
    walk_times, walk_command, walk_measured = [], [], []
    guards = (status_names.SIM_SAFETY, status_names.DRIVER_SAFETY)
    at_clock_stop: dict[str, dict[str, str]] = {}  # the guard statuses as of the newest /odom
    for item in read_bag(bag, topics=["/odom", "/diagnostics", "/cmd_vel"]):
        msg = item.message
        if item.topic == "/cmd_vel":
            cmd_vel = np.array(velocity_command(msg))
        elif item.topic == "/odom":
            q = msg.pose.pose.orientation
            heights.append(msg.pose.pose.position.z)
            tilts.append(float(tilt_rad(np.array([q.w, q.x, q.y, q.z]))))
            stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
            at_clock_stop = {name: out.diagnostics[name] for name in guards if name in out.diagnostics}
            if cmd_vel is not None:  # the newest /cmd_vel by receive time
                v, w = msg.twist.twist.linear, msg.twist.twist.angular
                walk_times.append(stamps[-1])
                walk_command.append(cmd_vel)
                walk_measured.append(np.array([v.x, v.y, w.z]))
        else:
            for status in msg.status:
                out.diagnostics[status.name] = {kv.key: kv.value for kv in status.values}
                level = status.level[0] if isinstance(status.level, bytes) else int(status.level)
                if status.name.endswith(status_names.TOPICS_SUFFIX) and level != 0:  # WARN: a second publisher
                    out.crowded_topics[status.name.removesuffix(status_names.TOPICS_SUFFIX)] = status.message
    for name, values in at_clock_stop.items():  # a mode reached only once the clock stopped is said apart
        final = out.diagnostics[name].get(status_names.MODE, "")
        if final != values.get(status_names.MODE, ""):
            out.diagnostics[name], out.mode_after_end = values, final
    from physai.record.reader import message_counts

    out.messages = message_counts(bag)
    if out.messages.get("/joint_states"):
        from physai.robot import RobotSpec

        with contextlib.suppress(ValueError):  # joints of no registered robot: say nothing about the base
            out.fixed_base = not RobotSpec.load(robot_of_bag(bag)).floating_base
    if heights:
        out.start_height_m, out.min_height_m = heights[0], float(np.min(heights))
        out.max_tilt_rad = float(np.max(tilts))
        out.sim_seconds = stamps[-1] - stamps[0]
        out.fell = bool(FALL.fallen(out.max_tilt_rad, out.min_height_m, out.start_height_m))
    if len(walk_command) > 1:
        dt = float(np.median(np.diff(stamps)))
        n = len(walk_command)
        log = WalkLog(dt, walk_command, walk_measured, [np.zeros(2, bool)] * n, [0.0] * n)
        out.walk = walk_metrics([log], None)
        out.segments = command_segments(np.array(walk_times), np.array(walk_command), np.array(walk_measured))
    return out
