"""motor_sim_node: virtual motors on a CAN bus, answering from a MuJoCo plant (hardware-in-the-loop).

Runs a RateLoop at the physics rate: take in the host's frames (decode the real bytes, reply as the drives
would), advance the plant one physics step with the motors' commands, and publish what the robot's own
sensors would: /imu/data (the plant's IMU, in place of the robot's), plus /odom (ground truth, for
recordings and fall checks) and /clock, both at 50 Hz. Fault injection (`faults`, e.g.
"drop_pct=5,silent_motor=left_knee") acts on the bus as a lossy or failing one would; /diagnostics says when
(wall time, `faults_start_unix_s`) the plant reached the faults' `start_s`, so a test measures the driver's
reaction on the clocks of the two loops.
"""

from __future__ import annotations

import time

import numpy as np
import rclpy
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu

from physai.control import RateLoop
from physai.drivers.config import HardwareConfig
from physai.drivers.link import open_link
from physai.hil.faults import FaultConfig
from physai.hil.virtual_motors import VirtualMotorBank
from physai.paths import robot_descriptions_dir
from physai.record import diagnostics
from physai.ros import convert, qos
from physai.ros.node_config import MotorSimNodeConfig
from physai.ros.node_main import CALLBACK_PRIORITY, run_node
from physai.ros.params import declare_and_read
from physai.ros.polled import publisher_of
from physai.sim import Simulator
from physai.sim.push import PeriodicPushes


class MotorSimNode(Node):
    """The plant and its motors."""

    def __init__(self) -> None:
        super().__init__("motor_sim_node")
        self.config = cfg = declare_and_read(self, MotorSimNodeConfig)
        self.sim = Simulator(cfg.robot, cfg.scene)
        self.sim.reset(seed=cfg.seed)
        spec = self.sim.spec
        hardware = HardwareConfig.load(
            cfg.hardware or str(robot_descriptions_dir() / spec.name / "hardware.yaml"), spec
        )
        self.faults = FaultConfig.parse(cfg.faults) if cfg.faults else None
        self.link = open_link(hardware, interface=cfg.bus_interface, channel=cfg.bus_channel)
        self.bank = VirtualMotorBank(hardware, self.sim, self.link, faults=self.faults, seed=cfg.seed)
        self.callback_priority = CALLBACK_PRIORITY if cfg.realtime_priority else 0  # physai.ros.node_main
        self.loop = RateLoop(
            self.sim.physics_dt, realtime=cfg.realtime_priority, name="plant_loop", switch_interval_s=1e-4
        )
        self.decimation = max(1, round(0.02 / self.sim.physics_dt))
        self.pushes_due = PeriodicPushes(cfg.push_velocity_m_s, cfg.push_interval_s, np.random.default_rng(cfg.seed))
        self.pushes = 0
        self.released = not cfg.gantry
        self.powered = False
        self.faults_start_ns: int | None = None
        self.pub_imu = self.create_publisher(Imu, "/imu/data", qos.SENSOR)
        self.pub_odom = self.create_publisher(convert.Odometry, "/odom", qos.SENSOR)
        self.pub_clock = self.create_publisher(Clock, "/clock", 10)
        self.pub_diag = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        self.record_publisher = publisher_of(self, cfg.record_topic, "record_topic")
        self.create_timer(0.5, self.publish_diagnostics)
        self.get_logger().info(  # also the logger's slow first call, before the loop runs
            f"{len(hardware.motors)} virtual motors on {len(hardware.buses)} buses ({cfg.bus_interface}), "
            f"plant at {1 / self.sim.physics_dt:g} Hz, faults: {cfg.faults or 'none'}"
        )

    def tick(self, index: int) -> None:
        """One physics step: frames in/out, plant step, sensor messages."""
        now = float(self.sim.data.time)
        if self.faults is not None and self.faults_start_ns is None and now >= self.faults.start_s:
            self.faults_start_ns = time.time_ns()
        if not self.powered:  # the motors answer only once every reader is there (start-up order)
            self.powered = self.record_publisher.get_subscription_count() >= self.config.record_subscribers
        if self.powered:
            self.bank.process_frames(now)
        else:
            self.link.receive_batch()  # frames to motors that are not powered yet go unanswered
        if not self.released:  # in the gantry: sensors run, time stands still
            self.released = all(
                m.applying_torque and m.command is not None and m.command.kp > 0
                for m in self.bank.motor_states().values()
            )
        if self.released:
            if (dv := self.pushes_due.due(now)) is not None:
                self.sim.push_base(dv)
                self.pushes += 1
            self.bank.step(1)
        state = self.sim.state()
        stamp = convert.stamp_from_ns(round(float(state.time_s) * 1e9))
        self.pub_imu.publish(convert.imu_msg(state, stamp, self.config.imu_frame))
        if index % self.decimation == 0:  # /clock: recordings, plots, a teleop script (the loops run on wall time)
            self.pub_odom.publish(convert.odom_msg(state, stamp, self.config.imu_frame))
            self.pub_clock.publish(Clock(clock=stamp))

    def run(self) -> None:
        """The plant loop at the physics rate, until shutdown or max_sim_time_s."""
        self.loop.start()
        index = 0
        limit = self.config.max_sim_time_s
        while rclpy.ok() and not (limit and self.sim.data.time >= limit):
            self.loop.wait()
            self.tick(index)
            index += 1

    def publish_diagnostics(self) -> None:
        """Bank counters (frames, faults injected), pushes and loop timing on /diagnostics."""
        values = {k: v for k, v in self.bank.stats.items() if not isinstance(v, dict)}
        values.update(self.loop.stats().as_dict(), pushes=self.pushes)
        values[diagnostics.SIM_TIME_S] = f"{self.sim.data.time:.3f}"
        values["gantry"] = "released" if self.released else "holding until every motor is commanded"
        values["faults"] = self.config.faults or "none"
        values["faults_start_unix_s"] = f"{self.faults_start_ns / 1e9:.6f}" if self.faults_start_ns else "-"
        status = convert.diagnostic_status(diagnostics.PLANT, convert.OK, "virtual motors", values, self.sim.spec.name)
        self.pub_diag.publish(convert.diagnostic_array(convert.stamp_from_ns(time.time_ns()), [status]))

    def close(self) -> None:
        """Stop the loop and leave the buses."""
        self.loop.stop()
        self.link.close()


def main(args: list[str] | None = None) -> None:
    """Console entry point `motor_sim_node`."""
    run_node("motor_sim_node", MotorSimNode, args)


if __name__ == "__main__":
    main()
