"""driver_node: the robot's actuators over CAN behind the physai topic contract; SafetyGuard owns every command.

Start-up: validate the hardware YAML against the robot, enter motor mode, wait for every motor's first reply
(measured pose), then run a RateLoop (500 Hz–1 kHz): read feedback → check faults → guard → write one frame
per motor → publish /joint_states from real feedback. Faults — a motor that leaves a command unanswered for
longer than the config's stale timeout, over-temperature, a drive error code, an implausible position jump —
trip the guard into damping (latched until ~/rearm) and are reported on /diagnostics with the motor's name.
Before the first command (guard waiting, already damping) they are reported but do not latch, so a start-up
hiccup does not leave the robot disabled. A clean exit sends exit-motor-mode / stop frames. Subscribes
/joint_commands, /estop, ~/rearm.

Every age the loop judges (a motor's unanswered command, the last /joint_commands) is taken on the loop's
StallClock: a host stall (the hypervisor took the CPUs; the plant and the policy stood still too) does not make
the motors stale or the commander late. Stalls are counted on /diagnostics (host_stalls, longest_stall_ms).

The loop thread never logs or publishes /diagnostics itself (a log call costs ~1 ms, its first one tens of
ms): a guard-mode or fault change triggers a guard condition, and the executor thread logs it and publishes
/diagnostics at once, with `mode_since_unix_s`, the wall time of the tick that changed the mode.
"""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Empty

from physai.control import GuardMode, RateLoop, SafetyGuard
from physai.drivers.can_bus import CanActuatorBus
from physai.drivers.config import HardwareConfig
from physai.drivers.link import open_link
from physai.drivers.monitor import FaultMonitor, MonitorConfig
from physai.paths import robot_descriptions_dir
from physai.record import diagnostics
from physai.robot import RobotSpec
from physai.ros import convert, qos
from physai.ros.node_config import DriverNodeConfig
from physai.ros.node_main import CALLBACK_PRIORITY, run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import PolledGroup, take_all
from physai.ros.publishers import publisher_status


class DriverNode(Node):
    """The hardware node. `run()` blocks until shutdown."""

    def __init__(self) -> None:
        super().__init__("driver_node")
        self.config = cfg = declare_and_read(self, DriverNodeConfig)
        self.spec = RobotSpec.load(cfg.robot)
        hardware = cfg.hardware or str(robot_descriptions_dir() / self.spec.name / "hardware.yaml")
        self.hardware = HardwareConfig.load(hardware, self.spec)
        self.guard = SafetyGuard(self.spec, cfg.guard_config())
        if cfg.policy:
            from physai.contract import read_from_onnx

            contract = read_from_onnx(cfg.policy)
            contract.check(self.spec)
            q, kp, kd = contract.robot_targets(self.spec, contract.default_pos)  # held joints: hold pose and gains
            self.guard.set_gains(kp, kd, q)
        for warning in self.hardware.check_bus_load(cfg.rate_hz):  # refuses a wiring no bus can carry
            self.get_logger().warning(warning)
        link = open_link(self.hardware, interface=cfg.bus_interface or None, channel=cfg.bus_channel or None)
        self.bus = CanActuatorBus(self.hardware, link)
        self.lock = threading.Lock()
        self.callback_priority = CALLBACK_PRIORITY if cfg.realtime_priority else 0  # physai.ros.node_main
        self.loop = RateLoop(
            1.0 / cfg.rate_hz,
            realtime=cfg.realtime_priority,
            cpu=cfg.loop_cpu if cfg.loop_cpu >= 0 else None,
            name="driver_loop",
            switch_interval_s=1e-4,
        )
        self.faults: dict[str, str] = {}
        self.last_mode = self.guard.mode
        monitor = MonitorConfig(
            cfg.max_temperature_c, cfg.max_jump_rad, cfg.frozen_window_s, cfg.frozen_torque_spread_nm
        )
        self.monitor = FaultMonitor(monitor, self.spec.joint_names)
        self.last_sent = None

        self.pub_joints = self.create_publisher(JointState, "/joint_states", qos.SENSOR)
        self.pub_applied = self.create_publisher(JointState, "~/applied", qos.RELIABLE)
        self.pub_diag = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        # the loop thread takes commands itself each tick (no executor work beside the loop: physai.ros.polled)
        self.sub_command = self.create_subscription(
            JointState, "/joint_commands", self.on_command, qos.COMMAND, callback_group=PolledGroup()
        )
        self.create_subscription(Bool, "/estop", self.on_estop, qos.LATCHED)
        self.create_subscription(Empty, "~/rearm", self.on_rearm, qos.RELIABLE)
        self.create_timer(cfg.diagnostics_period_s, self.publish_diagnostics)
        self.report_trigger = self.create_guard_condition(self.report_changes)
        self.reported_mode, self.reported_faults = self.guard.mode, {}
        self.mode_since_ns = time.time_ns()
        self.commands = 0
        buses = ", ".join(b.name for b in self.hardware.buses)
        self.get_logger().info(  # also the logger's slow first call, before any loop runs
            f"{len(self.hardware.motors)} motors on {len(self.hardware.buses)} buses ({buses}) at {cfg.rate_hz:g} Hz"
        )
        self.publish_diagnostics()  # likewise its first run

    # ---- inputs ----------------------------------------------------------------------------------------
    def on_command(self, msg: JointState, now_s: float) -> None:
        """Offer /joint_commands to the guard (called by the loop thread at the start of a tick, `now_s` its time)."""
        with self.lock:
            self.guard.submit(msg.name, msg.position, msg.velocity, msg.effort, now_s=now_s)
            self.commands += 1

    def on_estop(self, msg: Bool) -> None:
        """E-stop: True latches damping at the next tick; release needs ~/rearm."""
        with self.lock:
            self.guard.estop(bool(msg.data))

    def on_rearm(self, _msg: Empty) -> None:
        """Clear a released e-stop or a fault whose cause is gone."""
        with self.lock:
            if not self.faults:
                self.guard.rearm()

    # ---- the loop ----------------------------------------------------------------------------------------
    def start_motors(self) -> None:
        """Enter motor mode until every motor confirms (frames can be lost), reading the measured pose."""
        deadline = time.monotonic() + self.config.startup_timeout_s
        while True:
            self.bus.enable()  # idempotent: re-sent until every motor answers in command mode
            time.sleep(0.02)
            now = time.monotonic()
            self.bus.read_state(self.loop.clock.time(now))
            missing = self.bus.not_running()
            if not missing:
                return
            if now > deadline:
                raise RuntimeError(
                    f"motors of {', '.join(missing)} not in command mode after {self.config.startup_timeout_s} s"
                )

    def tick(self) -> None:
        """Take commands, read, check, guard, write, publish; ages on the loop's StallClock (physai.control)."""
        now = self.loop.tick_time_s
        for msg in take_all(self.sub_command):
            self.on_command(msg, now)
        fb = self.bus.read_state(now)
        with self.lock:
            faults = self.monitor.check(fb, self.last_sent, now)
            if faults and self.guard.mode is not GuardMode.WAITING:  # while waiting it is damping already
                self.guard.trip("; ".join(f"{j}: {why}" for j, why in faults.items()))
            changed = faults.keys() != self.faults.keys()
            self.faults = faults
            command = self.guard.output(now, fb.position)
            if self.guard.mode is not self.last_mode:
                self.last_mode, self.mode_since_ns, changed = self.guard.mode, time.time_ns(), True
        sent = self.bus.write_command(command, now)
        self.last_sent = sent
        stamp = convert.stamp_from_ns(time.time_ns())
        names = self.spec.joint_names
        self.pub_joints.publish(convert.joint_state_msg(names, fb.position, fb.velocity, fb.torque, stamp))
        if self.pub_applied.get_subscription_count():  # 500 Hz of messages nobody reads cost the loop ~10 %
            self.pub_applied.publish(convert.joint_state_msg(names, sent.q, sent.dq, sent.tau_ff, stamp))
        if changed:
            self.report_trigger.trigger()  # report_changes, in the executor thread

    def run(self) -> None:
        """The control loop, until shutdown."""
        self.loop.start()  # SCHED_FIFO, mlockall and gc.freeze first: they take a while on a large process
        self.start_motors()
        self.loop.resync()
        while rclpy.ok():
            self.loop.wait()
            self.tick()

    def report_changes(self) -> None:
        """Log what changed since the last report (guard mode, faults) and publish /diagnostics now."""
        with self.lock:
            mode, faults = self.guard.mode, dict(self.faults)
        if faults and faults.keys() != self.reported_faults.keys():
            reason = "; ".join(f"{j}: {why}" for j, why in faults.items())
            self.get_logger().error(f"fault → damping: {reason}")
        if mode is not self.reported_mode:
            self.get_logger().info(f"guard {self.reported_mode.value} → {mode.value}")
        self.reported_mode, self.reported_faults = mode, faults
        self.publish_diagnostics()

    def publish_diagnostics(self) -> None:
        """Guard mode/events, faults per motor, bus counters and loop timing on /diagnostics."""
        with self.lock:
            mode, since_ns, faults = self.guard.mode.value, self.mode_since_ns, dict(self.faults)
            values = {diagnostics.MODE: mode, "fault_reason": self.guard.fault_reason or "-", **self.guard.counts()}
        values[diagnostics.MODE_SINCE_UNIX_S] = f"{since_ns / 1e9:.6f}"
        values.update(self.loop.stats().as_dict())
        values.update({f"bus_{k}": v for k, v in self.bus.health().items()})
        level = convert.OK if mode in ("active", "soft_start") else convert.WARN
        statuses = [
            convert.diagnostic_status(diagnostics.DRIVER_SAFETY, level, f"guard {mode}", values, self.spec.name)
        ]
        statuses += [
            convert.diagnostic_status(diagnostics.driver_motor(joint), convert.ERROR, why, {"joint": joint})
            for joint, why in faults.items()
        ]
        owned = publisher_status(self, ("/joint_commands", "/joint_states"))
        statuses += [owned] if owned else []
        self.pub_diag.publish(convert.diagnostic_array(convert.stamp_from_ns(time.time_ns()), statuses))

    def close(self) -> None:
        """Stop the loop, take the motors out of command mode (they go limp under their firmware), free the bus."""
        self.loop.stop()
        self.bus.disable()
        self.bus.close()


def main(args: list[str] | None = None) -> None:
    """Console entry point `driver_node`."""
    run_node("driver_node", DriverNode, args)


if __name__ == "__main__":
    main()
