"""sim_node: a MuJoCo robot behind the physai topic contract, with SafetyGuard owning every command.

Publishes /joint_states (what the joints measure, effort = applied torque), /imu/data, /odom (simulation
truth), /clock (sim time), /diagnostics and, with a `camera`, /camera/image_raw + /camera/camera_info
(rendered in their own thread at a capped rate; in lockstep every 1/rate of sim time, the physics waiting for
it: see physai.ros.camera); subscribes /joint_commands and
/estop (and ~/rearm via a std_msgs/Empty topic). Modes:
  realtime  physics at 1/physics_dt on a RateLoop (absolute deadlines); state published every physics step
  lockstep  one control period of physics per received command, then the new state (deterministic)
Gains and the control period come from the policy contract (`policy` parameter), else robot.yaml.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import rclpy
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.publisher import Publisher
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, Empty

from physai.control import RateLoop, SafetyGuard
from physai.record import diagnostics
from physai.ros import convert, qos
from physai.ros.node_config import SimNodeConfig, parse_push_schedule, parse_target
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import PolledGroup, publisher_of, take_all, wait_for_subscribers
from physai.ros.publishers import publisher_status
from physai.sim import Simulator
from physai.sim.push import PeriodicPushes

FINAL_REPORT_TIMEOUT_S = 1.0
"""How long a finished run waits for its reliable readers to acknowledge its last messages (s, all together)."""
LOCKSTEP_RESEND_S = 0.5
"""Lockstep: a state not answered within this many wall seconds is published again (best-effort topics)."""


class SimNode(Node):
    """The simulated robot. `run()` blocks until shutdown."""

    def __init__(self) -> None:
        super().__init__("sim_node")
        self.config = cfg = declare_and_read(self, SimNodeConfig)
        contract = None
        if cfg.policy:
            from physai.contract import read_from_onnx

            contract = read_from_onnx(cfg.policy)
        # physics at the period the policy was trained with (the contract's physics_dt_s)
        self.sim = Simulator(cfg.robot, cfg.scene, **({"physics_dt": contract.physics_dt_s} if contract else {}))
        spec = self.sim.spec
        self.guard = SafetyGuard(spec, cfg.guard_config())
        self.control_dt_s = 0.02
        if contract is not None:
            contract.check(spec)
            q, kp, kd = contract.robot_targets(spec, contract.default_pos)  # held joints: hold pose and gains
            self.guard.set_gains(kp, kd, q)
            self.control_dt_s = contract.control_dt_s
        self.decimation = max(1, round(self.control_dt_s / self.sim.physics_dt))
        self.sim.reset(seed=cfg.seed, noise=cfg.reset_noise_rad)
        if cfg.target_cube_pos:
            self.place_target_cube(parse_target(cfg.target_cube_pos))
        self.lock = threading.Lock()
        self.applied = self.guard.output(0.0, self.sim.state().joint_pos)
        state_qos = qos.LOCKSTEP_STATE if cfg.mode == "lockstep" else qos.SENSOR
        self.pub_joints = self.create_publisher(JointState, "/joint_states", state_qos)
        self.pub_imu = self.create_publisher(Imu, "/imu/data", state_qos)
        self.pub_odom = self.create_publisher(convert.Odometry, "/odom", state_qos)
        self.pub_clock = self.create_publisher(Clock, "/clock", 10)
        self.pub_diag = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        self.pub_applied = self.create_publisher(JointState, "~/applied", qos.RELIABLE)
        self.record_publisher = publisher_of(self, cfg.record_topic, "record_topic")
        # realtime: the loop thread takes commands and /estop itself at each physics step (no executor work
        # beside the loop, and an e-stop acts at the next step)
        group = PolledGroup() if cfg.mode == "realtime" else None
        self.sub_command = self.create_subscription(
            JointState, "/joint_commands", self.on_command, qos.COMMAND, callback_group=group
        )
        self.sub_estop = self.create_subscription(Bool, "/estop", self.on_estop, qos.LATCHED, callback_group=group)
        self.create_subscription(Empty, "~/rearm", lambda _: self.guard.rearm(), qos.RELIABLE)
        self.loop = RateLoop(
            self.sim.physics_dt,
            realtime=cfg.realtime_priority,
            cpu=cfg.loop_cpu if cfg.loop_cpu >= 0 else None,
            name="sim_loop",
            switch_interval_s=1e-5,  # the spinner thread has almost nothing to do: commands are polled
        )
        self.create_timer(cfg.diagnostics_period_s, self.publish_diagnostics)
        self.report_trigger = self.create_guard_condition(self.publish_diagnostics)  # a guard mode change
        self.mode_since_ns = time.time_ns()
        self.command_age_at_change_s = 0.0  # sim time from the last accepted command to the last mode change (s)
        self.camera = None
        if cfg.camera:
            from physai.ros.camera import CameraPublisher

            self.camera = CameraPublisher(
                self,
                self.sim.model,
                cfg.camera,
                self.snapshot_qpos,
                base_body=spec.base_body,
                rate_hz=cfg.camera_rate_hz,
                width=cfg.camera_width,
                height=cfg.camera_height,
                sim_clock=cfg.mode == "lockstep",  # the images of a lockstep run do not depend on the host
                noise=cfg.image_noise() if cfg.camera_noise else None,
                seed=cfg.seed,
            )
        if cfg.mode == "lockstep":
            self.create_timer(0.1, self.publish_state_until_commanded)
        self.state_published_s = time.monotonic()
        self.commands = 0
        self.pushes = 0
        self.pushes_due = PeriodicPushes(cfg.push_velocity_m_s, cfg.push_interval_s, np.random.default_rng(cfg.seed))
        self.schedule = parse_push_schedule(cfg.push_schedule)
        self.last_mode = self.guard.mode
        self.last_command_s = float("nan")
        self.applied_published = 0
        self.finished = threading.Event()
        self.published_at: dict[int, int] = {}  # state stamp (ns) → wall time it was published (ns)
        self.latency_us: list[float] = []  # wall time from a state to the command answering it (stamp echoed)

    # ---- inputs ----------------------------------------------------------------------------------------
    def on_command(self, msg: JointState) -> None:
        """Offer a /joint_commands message to the guard; in lockstep, advance one control period.

        Realtime: called by the loop thread before each physics step (see `physai.ros.polled`). A run that
        reached max_sim_time_s takes no more commands: its clock stays at the end while the node reports it.
        """
        if self.finished.is_set():
            return
        sent = self.published_at.get(convert.stamp_to_ns(msg.header.stamp))
        if sent is not None:
            self.latency_us.append((time.monotonic_ns() - sent) / 1000.0)
            del self.latency_us[:-2000]
        due = False  # lockstep: the camera's next frame is due (rendered outside the lock: the camera takes it)
        with self.lock:
            now = float(self.sim.data.time)
            self.last_command_s = now
            self.guard.submit(msg.name, msg.position, msg.velocity, msg.effort, now_s=now)
            self.commands += 1
            if self.config.mode == "lockstep":
                self.advance(self.decimation)
                due = self.camera is not None and self.camera.due(float(self.sim.data.time))
                if not due:
                    self.publish_state()
        if due:  # the picture of this state before the state itself
            self.camera.render()
            with self.lock:
                self.publish_state()

    def on_estop(self, msg: Bool) -> None:
        """E-stop: True latches damping (effective at the next physics step); release needs ~/rearm."""
        with self.lock:
            self.guard.estop(bool(msg.data))

    # ---- physics -------------------------------------------------------------------------------------------
    def advance(self, steps: int) -> None:
        """Run `steps` physics steps, asking the guard for the command before each (caller holds the lock)."""
        joint_qpos = self.sim.layout.joint_qpos
        for _ in range(steps):
            now = float(self.sim.data.time)  # the guard needs only time and measured q, not a full state read
            self.applied = self.guard.output(now, self.sim.data.qpos[joint_qpos])
            if self.guard.mode is not self.last_mode:  # reported by the executor thread (report_trigger)
                self.last_mode, self.mode_since_ns = self.guard.mode, time.time_ns()
                self.command_age_at_change_s = now - self.last_command_s
                self.report_trigger.trigger()
            if self.schedule and now + 1e-9 >= self.schedule[0][0]:
                _, dvx, dvy = self.schedule.pop(0)
                self.push(np.array([dvx, dvy]))
            elif (dv := self.pushes_due.due(now)) is not None:
                self.push(dv)
            self.sim.apply(self.applied)
            self.sim.step(1)
            if self.commands != self.applied_published:
                self.applied_published = self.commands
                self.publish_applied()
        if self.config.max_sim_time_s and self.sim.data.time >= self.config.max_sim_time_s:
            self.finished.set()

    def snapshot_qpos(self, out: np.ndarray) -> float:
        """Copy qpos into `out` for the camera thread; returns the sim time (s) it belongs to."""
        with self.lock:
            out[:] = self.sim.data.qpos
            return float(self.sim.data.time)

    def publish_applied(self) -> None:
        """~/applied: the command really applied after the guard (q*, dq*, τ_ff), once per accepted command."""
        cmd, stamp = self.applied, convert.stamp_from_ns(round(self.sim.data.time * 1e9))
        self.pub_applied.publish(convert.joint_state_msg(self.sim.spec.joint_names, cmd.q, cmd.dq, cmd.tau_ff, stamp))

    def push(self, dv_m_s: np.ndarray) -> None:
        """Add a horizontal velocity (m/s, world frame) to the floating base."""
        self.sim.push_base(dv_m_s)
        self.pushes += 1

    def run(self) -> None:
        """Simulate until shutdown or max_sim_time_s; a run that reached max_sim_time_s reports its end.

        The diagnostics timer runs on wall time, and a lockstep run can be 5× faster than real time (20 s of
        sim time in 4 s): without the final report a recording could miss the last seconds' figures (ci317:
        4 of the 6 pushes of a 20 s run in the last recorded /diagnostics). The node then waits until its
        reliable readers have acknowledged everything it published (a sample lost on a busy host is repaired
        by its writer only while the writer lives: ci340 lost the last 0.2 s of states from a bag).
        """
        self.simulate()
        if self.finished.is_set() and rclpy.ok():
            self.publish_diagnostics()
            deadline = time.monotonic() + FINAL_REPORT_TIMEOUT_S
            publishers = (self.pub_joints, self.pub_imu, self.pub_odom, self.pub_clock, self.pub_diag)
            unacked = [
                pub.topic_name
                for pub in publishers
                if not pub.wait_for_all_acked(Duration(seconds=max(0.0, deadline - time.monotonic())))
            ]
            self.get_logger().info(
                f"finished at sim time {self.sim.data.time:.3f} s after {self.commands} commands; "
                + (
                    f"not acknowledged by every reader within {FINAL_REPORT_TIMEOUT_S} s: {', '.join(unacked)}"
                    if unacked
                    else "every reliable reader has every message"
                )
            )

    def simulate(self) -> None:
        """Until shutdown or max_sim_time_s. Lockstep: commands (callbacks) advance the physics; just wait.

        Realtime: sim time starts once the policy and the recorder are matched (`state_subscribers`,
        `record_subscribers`), then physics on absolute deadlines, state published every step (/odom at the control
        rate). The loop runs on `loop_cpu` when given, and the GIL switch interval drops to 10 µs so that the loop
        thread, woken at its deadline, gets the GIL back from the callback thread quickly instead of after up to
        5 ms.
        """
        if self.config.mode == "lockstep":
            while rclpy.ok() and not self.finished.wait(0.1):
                pass
            return
        for publisher, count in wait_for_subscribers(self.start_readers()):
            self.get_logger().warning(
                f"{publisher.topic_name} has {publisher.get_subscription_count()} of {count} expected subscribers "
                "after 30 s; sim time starts anyway"
            )
        self.loop.start()
        tick = 0
        while rclpy.ok() and not self.finished.is_set():
            self.loop.wait()
            for msg in take_all(self.sub_estop):
                self.on_estop(msg)
            for msg in take_all(self.sub_command):
                self.on_command(msg)
            with self.lock:
                self.advance(1)
                self.publish_state(odom=tick % self.decimation == 0)
            tick += 1

    # ---- outputs -------------------------------------------------------------------------------------------
    def publish_state(self, odom: bool = True) -> None:
        """/joint_states, /imu/data, /clock and (if `odom`) /odom at the current sim time."""
        state = self.sim.state()
        stamp_ns = round(float(state.time_s) * 1e9)
        stamp = convert.stamp_from_ns(stamp_ns)
        names = self.sim.spec.joint_names
        self.pub_imu.publish(convert.imu_msg(state, stamp, self.config.imu_frame))
        if odom:
            self.pub_odom.publish(convert.odom_msg(state, stamp, self.config.imu_frame))
        self.pub_clock.publish(Clock(clock=stamp))
        self.pub_joints.publish(
            convert.joint_state_msg(names, state.joint_pos, state.joint_vel, state.joint_torque, stamp)
        )
        self.published_at[stamp_ns] = time.monotonic_ns()  # the policy echoes this stamp in its command
        self.state_published_s = time.monotonic()
        if len(self.published_at) > 64:
            del self.published_at[next(iter(self.published_at))]

    def start_readers(self) -> list[tuple[Publisher, int]]:
        """The (publisher, matched subscribers) pairs a run waits for before its first state, in either mode.

        The policy's and the recorder's state topics (`state_subscribers`) and the recorder's `record_topic`
        (`record_subscribers`). A lockstep run can end within a second of wall time: a recorder not yet matched
        then misses all of it (ci370, ci380: a bag of /diagnostics without one of sim_node's).
        """
        states, records = self.config.state_subscribers, self.config.record_subscribers
        return [(self.pub_joints, states), (self.pub_imu, states), (self.record_publisher, records)]

    def publish_state_until_commanded(self) -> None:
        """Lockstep: repeat the state until the command answering it arrives.

        At start-up it begins once every expected subscriber is matched (discovery takes time; a recorder must not
        miss it). Later, a state unanswered for LOCKSTEP_RESEND_S is sent again: /joint_states and /imu/data are
        best effort, and one sample lost under load would otherwise stop the run (the policy answers each stamp
        once, so a repeat it has answered changes nothing).
        """
        if self.commands == 0:
            if all(p.get_subscription_count() >= n for p, n in self.start_readers()):
                with self.lock:
                    self.publish_state()
        elif time.monotonic() - self.state_published_s > LOCKSTEP_RESEND_S:
            with self.lock:
                self.publish_state()

    def place_target_cube(self, base_frame_pos: tuple[float, float, float]) -> None:
        """The scene's target cube at this base-frame position (m) for the run, facing the camera."""
        from physai.sim.marker import fix_marker_cube

        model, data = self.sim.model, self.sim.data
        base = model.body(self.sim.spec.base_body).id
        world = data.xpos[base] + data.xmat[base].reshape(3, 3) @ np.asarray(base_frame_pos)
        try:
            camera = self.config.camera if self.config.camera not in ("", "tracking") else None
            fix_marker_cube(model, data, world, camera)
        except KeyError:
            raise ValueError(
                f"parameter 'target_cube_pos' is {self.config.target_cube_pos!r}; expected a scene with the target "
                f"cube (marker_cube), not {self.config.scene!r}"
            ) from None

    def publish_diagnostics(self) -> None:
        """Guard mode and events, loop lateness and RT status, on /diagnostics."""
        stats = self.loop.stats()
        mode = self.guard.mode.value
        level = convert.OK if mode in ("active", "soft_start") else convert.WARN
        values = {
            diagnostics.MODE: mode,
            diagnostics.MODE_SINCE_UNIX_S: f"{self.mode_since_ns / 1e9:.6f}",
            diagnostics.SIM_TIME_S: f"{self.sim.data.time:.4f}",
            "last_command_age_s": f"{self.command_age_at_change_s:.4f}",  # at the step the mode last changed
            "pushes": self.pushes,
            **self.guard.counts(),
        }
        if self.camera is not None:
            values["camera_images"] = self.camera.published
        values.update(stats.as_dict())
        if self.latency_us:
            p50, p99 = np.percentile(self.latency_us, [50, 99])
            values.update(
                {diagnostics.STATE_TO_COMMAND_US_P50: f"{p50:.1f}", diagnostics.STATE_TO_COMMAND_US_P99: f"{p99:.1f}"}
            )
        stamp = convert.stamp_from_ns(time.time_ns())
        status = convert.diagnostic_status(diagnostics.SIM_SAFETY, level, f"guard {mode}", values, self.sim.spec.name)
        owned = publisher_status(self, ("/joint_commands", "/joint_states", "/odom", "/imu/data", "/clock"))
        self.pub_diag.publish(convert.diagnostic_array(stamp, [status, *([owned] if owned else [])]))

    def close(self) -> None:
        """Stop the loop (restores scheduling)."""
        if self.camera is not None:
            self.camera.close()
        self.loop.stop()


def main(args: list[str] | None = None) -> None:
    """Console entry point `sim_node`."""
    run_node("sim_node", SimNode, args)


if __name__ == "__main__":
    main()
