"""policy_node: runs policy.onnx on /joint_states + /imu/data + /cmd_vel and publishes /joint_commands.

The contract in the file is checked against the robot before anything is published (a mismatch ends the
node with a message naming it). The observation is built by the contract's ObservationBuilder, so it is the
one the policy was trained on. Triggers:
  timer  at the contract's control rate, using the newest inputs (realtime)
  state  whenever /joint_states and /imu/data with the same stamp have both arrived (lockstep)
Inputs older than `stale_timeout_s` stop the commands (the actuator node's guard then times out into
damping); the reason is on /diagnostics. Ages are taken on a StallClock ticked by the timer (physai.control):
a host stall, during which the actuator side and the plant stood still too, does not make the inputs stale.
/cmd_vel is clamped into the ranges the policy was trained on (the contract's `command_ranges`); clamped
messages are counted on /diagnostics and warned about on the console. With `cmd_vel_stamped` it is a
TwistStamped, and a lockstep state is answered once the command for its time is in (deterministic scripts).
"""

from __future__ import annotations

import gc
import time

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState

from physai.contract import clamp_command, read_from_onnx
from physai.control import StallClock
from physai.record import diagnostics
from physai.robot import RobotSpec
from physai.robot.kinematics import load_chain
from physai.ros import convert, qos
from physai.ros.node_config import PolicyNodeConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import PolledGroup, take_all
from physai.ros.publishers import publisher_status


class PolicyNode(Node):
    """Runs the policy; see the module docstring."""

    def __init__(self) -> None:
        super().__init__("policy_node")
        self.config = cfg = declare_and_read(self, PolicyNodeConfig)
        from physai.policy.runner import PolicyRunner  # onnxruntime loads here, after the parameters are valid

        contract = read_from_onnx(cfg.policy)  # without onnxruntime: a policy for another robot is refused first
        spec = RobotSpec.load(cfg.robot or contract.robot)
        contract.check(spec)
        self.runner = PolicyRunner(cfg.policy, chain=load_chain(spec.source))  # refuses terms it cannot build
        self.base_frame = spec.base_body
        self.target = None if cfg.target is None else np.array(cfg.target)
        self.joints: JointState | None = None
        self.imu: Imu | None = None
        self.received = {"joints": 0.0, "imu": 0.0}
        self.cmd_vel = np.zeros(3)
        self.cmd_vel_time = 0.0
        self.cmd_vel_stamp_ns = -1  # stamped /cmd_vel: the newest command's time (ns)
        self.cmd_vel_clamped = 0
        self.last_stamp = -1
        self.inputs_up = not cfg.awaited_inputs  # every awaited input topic has had a writer
        self.published = 0
        self.stale_reason = "waiting for /joint_states and /imu/data"
        self.pub_cmd = self.create_publisher(JointState, "/joint_commands", qos.COMMAND)
        self.pub_diag = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        if cfg.trigger == "timer":  # take the newest state at each step: no executor work per 500 Hz sample
            group, profile = PolledGroup(), qos.SENSOR_LATEST
        else:  # lockstep: act on every state
            group, profile = None, qos.SENSOR
        self.sub_joints = self.create_subscription(
            JointState, "/joint_states", self.on_joints, profile, callback_group=group
        )
        self.sub_imu = self.create_subscription(Imu, "/imu/data", self.on_imu, profile, callback_group=group)
        self.create_subscription(
            TwistStamped if cfg.cmd_vel_stamped else Twist, "/cmd_vel", self.on_cmd_vel, qos.RELIABLE
        )
        if self.runner.needs_target:
            self.create_subscription(PoseStamped, "/target_pose", self.on_target, qos.RELIABLE)
        self.clock = StallClock(contract.control_dt_s)  # ticked by the timer; lockstep: plain monotonic time
        if cfg.trigger == "timer":
            self.create_timer(contract.control_dt_s, self.on_timer)
        self.create_timer(cfg.diagnostics_period_s, self.publish_diagnostics)
        self.runner.warm_up()  # the first inferences are slow: not between the first commands
        n = len(self.runner.joint_names)
        convert.joint_state_msg(
            self.runner.joint_names, np.zeros(n), np.zeros(n), np.zeros(n), convert.stamp_from_ns(0)
        )
        self.publish_diagnostics()  # warm-up: its first run (numpy, message build) must not stall the first steps
        gc.freeze()  # start-up objects out of the collector's way: no collection pause between steps
        self.get_logger().info(
            f"policy {cfg.policy} for {contract.robot}: {contract.obs_dim} obs → {contract.action_dim} joints at {1 / contract.control_dt_s:g} Hz"
        )

    def now_s(self) -> float:
        """Now on the StallClock (s): monotonic time less the host stalls it left out, for input ages."""
        return self.clock.time(time.monotonic())

    def on_joints(self, msg: JointState) -> None:
        """Keep the newest joint state (contract order is applied at step time)."""
        self.joints, self.received["joints"] = msg, self.now_s()
        if self.config.trigger == "state":
            self.try_lockstep()

    def on_imu(self, msg: Imu) -> None:
        """Keep the newest IMU sample."""
        self.imu, self.received["imu"] = msg, self.now_s()
        if self.config.trigger == "state":
            self.try_lockstep()

    def on_cmd_vel(self, msg: Twist | TwistStamped) -> None:
        """Velocity command (vx m/s, vy m/s, yaw rate rad/s); a stamped one counts for its time even if ignored."""
        if isinstance(msg, TwistStamped):
            self.cmd_vel_stamp_ns = max(self.cmd_vel_stamp_ns, convert.stamp_to_ns(msg.header.stamp))
            msg = msg.twist
        self.take_cmd_vel(np.array([msg.linear.x, msg.linear.y, msg.angular.z]))
        if self.config.trigger == "state":
            self.try_lockstep()  # a state may be waiting for the command of its time

    def take_cmd_vel(self, values: np.ndarray) -> None:
        """Keep (vx, vy, yaw rate) clamped to the trained ranges; warn of and ignore a non-finite one."""
        if not np.isfinite(values).all():
            self.get_logger().warning(
                f"/cmd_vel {values.tolist()} ignored: expected finite numbers", throttle_duration_sec=1.0
            )
            return
        command, clamped = clamp_command(values, self.runner.contract)
        if clamped:
            self.cmd_vel_clamped += 1
            ranges = self.runner.contract.command_ranges
            self.get_logger().warning(
                f"/cmd_vel {values.round(3).tolist()} clamped to {command.round(3).tolist()}: the policy was trained "
                f"on vx {ranges[0]}, vy {ranges[1]} m/s, yaw rate {ranges[2]} rad/s",
                throttle_duration_sec=1.0,
            )
        self.cmd_vel, self.cmd_vel_time = command, self.now_s()

    def on_target(self, msg: PoseStamped) -> None:
        """Reaching target in the base frame (m); one in another frame, or non-finite, is ignored and warned of."""
        p = msg.pose.position
        values = np.array([p.x, p.y, p.z])
        if msg.header.frame_id not in ("", self.base_frame) or not np.isfinite(values).all():
            self.get_logger().warning(
                f"/target_pose {values.tolist()} in frame {msg.header.frame_id!r} ignored: expected finite numbers "
                f"in {self.base_frame}",
                throttle_duration_sec=1.0,
            )
            return
        self.target = values

    def try_lockstep(self) -> None:
        """Run once per stamp, when the joint state and the IMU of that stamp are both in."""
        if self.joints is None or self.imu is None:
            return
        stamp = convert.stamp_to_ns(self.joints.header.stamp)
        if stamp != convert.stamp_to_ns(self.imu.header.stamp) or stamp == self.last_stamp:
            return
        if self.pub_cmd.get_subscription_count() < self.config.command_subscribers:
            return  # lockstep start-up: the simulator repeats its first state until we answer
        if not self.awaited_inputs_up():  # likewise until the teleop or the perception is up
            return
        if self.config.cmd_vel_stamped and self.cmd_vel_stamp_ns < stamp:
            return  # the teleop's command for this time is on its way (it answers the state's /clock)
        self.last_stamp = stamp
        self.act()

    def on_timer(self) -> None:
        """Realtime trigger: act on fresh inputs, or stop commanding and say why."""
        now = self.clock.tick(time.monotonic())
        for msg in take_all(self.sub_joints):
            self.on_joints(msg)
        for msg in take_all(self.sub_imu):
            self.on_imu(msg)
        old = [name for name, t in self.received.items() if now - t > self.config.stale_timeout_s]
        if old:
            self.stale_reason = f"stale inputs: {', '.join(old)} older than {self.config.stale_timeout_s} s"
            self.runner.reset()
            return
        if self.awaited_inputs_up():  # until then nothing is commanded (a HIL plant stays in its gantry)
            self.act()

    def awaited_inputs_up(self) -> bool:
        """Whether every `await_inputs` topic has had a writer (latched; graph queries only until then)."""
        if not self.inputs_up:
            self.inputs_up = all(self.count_publishers(topic) > 0 for topic in self.config.awaited_inputs)
            if not self.inputs_up:
                self.stale_reason = f"waiting for a writer on {', '.join(self.config.awaited_inputs)}"
        return self.inputs_up

    def act(self) -> None:
        """One policy step on the newest inputs; publish the targets."""
        assert self.joints is not None and self.imu is not None
        fresh = self.now_s() - self.cmd_vel_time < self.config.cmd_vel_timeout_s
        command = self.cmd_vel if fresh else np.zeros(3)
        gyro, quat = convert.imu_arrays(self.imu)
        try:
            targets, _ = self.runner.step(
                self.joints.name, self.joints.position, self.joints.velocity, gyro, quat, command, self.target
            )
        except ValueError as err:
            self.stale_reason = str(err)
            return
        self.stale_reason = ""
        n = len(targets)
        msg = convert.joint_state_msg(
            self.runner.joint_names, targets, np.zeros(n), np.zeros(n), self.joints.header.stamp
        )
        self.pub_cmd.publish(msg)
        self.published += 1

    def publish_diagnostics(self) -> None:
        """Commands published, inference latency and staleness on /diagnostics."""
        times = np.array(self.runner.inference_us or [np.nan])
        values = {
            "commands_published": self.published,
            "cmd_vel": " ".join(f"{v:.3f}" for v in self.cmd_vel),
            "cmd_vel_clamped": self.cmd_vel_clamped,
            diagnostics.INFERENCE_US_P50: f"{np.percentile(times, 50):.1f}",
            diagnostics.INFERENCE_US_P99: f"{np.percentile(times, 99):.1f}",
            "stale": self.stale_reason or "no",
            **self.clock.as_dict(),
            "target": "-"
            if not self.runner.needs_target
            else ("none seen: holding" if self.target is None else " ".join(f"{v:.3f}" for v in self.target)),
        }
        level = convert.WARN if self.stale_reason else convert.OK
        status = convert.diagnostic_status(diagnostics.POLICY, level, self.stale_reason or "running", values)
        owned = publisher_status(self, ("/joint_commands",))
        statuses = [status, *([owned] if owned else [])]
        self.pub_diag.publish(convert.diagnostic_array(convert.stamp_from_ns(time.time_ns()), statuses))


def main(args: list[str] | None = None) -> None:
    """Console entry point `policy_node`."""
    run_node("policy_node", PolicyNode, args)


if __name__ == "__main__":
    main()
