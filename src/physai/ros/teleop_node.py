"""teleop_node: /cmd_vel (geometry_msgs/Twist) from a keyboard, a joystick (/joy) or a scripted timeline.

    ros2 run physai teleop_node                                   # keys of teleop_twist_keyboard, this terminal
    ros2 run physai teleop_node --ros-args -p source:=joy         # sensor_msgs/Joy on /joy, deadman button held
    ros2 run physai teleop_node --ros-args -p source:=script -p script:=path.yaml -p use_sim_time:=true

The mappings live in physai.control.teleop. Keyboard and script publish at `rate_hz` of wall time, so policy_node's
/cmd_vel timeout (wall time) never fires while a command holds, however fast sim time runs. A script's t is sim
time itself under use_sim_time (sim2sim replays the env's timeline on the same clock), its /cmd_vel writer
appearing with the first /clock; else wall time since /cmd_vel's first reader. With `stamped` the commands are
TwistStamped, and a script on sim time sends one per /clock, stamped with it: a lockstep policy_node
(`cmd_vel_stamped`) answers each state with the script's command for that state's time. Joy publishes on every Joy message
while the deadman is held and one zero on its release; its /cmd_vel writer appears with the first Joy message, so a
run that awaits its inputs (policy_node's `await_inputs`: lockstep, HIL) starts once the joystick is there. Ctrl-D
on the keyboard sends a zero command, then quits; on Ctrl-C (or a dead teleop) policy_node's `cmd_vel_timeout_s`
brings the command to zero.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import stat
import sys
import termios
import threading
import time
import tty

import numpy as np
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Joy

from physai.control import teleop
from physai.ros import convert, qos
from physai.ros.node_config import TeleopNodeConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read

STEADY = Clock(clock_type=ClockType.STEADY_TIME)
"""Publishing runs on wall time, so a command holds in policy_node (its /cmd_vel timeout is wall time) however
fast or slow sim time goes; a script reads its t from the node clock (sim time under use_sim_time)."""


def twist(command: np.ndarray) -> Twist:
    """Twist of (vx m/s, vy m/s, yaw rate rad/s)."""
    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = (float(v) for v in command)
    return msg


def twist_stamped(command: np.ndarray, stamp: TimeMsg) -> TwistStamped:
    """TwistStamped of (vx m/s, vy m/s, yaw rate rad/s) at `stamp`."""
    msg = TwistStamped(twist=twist(command))
    msg.header.stamp = stamp
    return msg


class TeleopNode(Node):
    """Publishes /cmd_vel; see the module docstring."""

    def __init__(self) -> None:
        super().__init__("teleop_node")
        self.config = cfg = declare_and_read(self, TeleopNodeConfig)
        on_sim_time = cfg.source == "script" and bool(self.get_parameter("use_sim_time").value)
        self.pub = None  # joy: from the first Joy; a script on sim time: from the first /clock
        if cfg.source != "joy" and not on_sim_time:
            self.open_writer()
        self.command = np.zeros(3)
        self.published = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._terminal: list | None = None
        if cfg.source == "script":
            self.timeline = teleop.CommandTimeline.load(cfg.script)
            self._start_ns: int | None = None  # the script starts once a reader (policy_node) is on /cmd_vel
            if on_sim_time:
                self._clock_sub = self.create_subscription(ClockMsg, "/clock", self.on_clock, 10)
            if not (on_sim_time and cfg.stamped):
                self.create_timer(1.0 / cfg.rate_hz, self.on_script_tick, clock=STEADY)
            self.get_logger().info(
                f"script {cfg.script}: {len(self.timeline.times_s)} entries, {self.timeline.end_s:g} s"
            )
        elif cfg.source == "joy":
            self.joy = cfg.joy_mapping()
            self._enabled = False
            self.create_subscription(Joy, "/joy", self.on_joy, qos.SENSOR)
        else:
            fd = sys.stdin.fileno()
            if not (os.isatty(fd) or stat.S_ISFIFO(os.fstat(fd).st_mode)):
                raise ValueError(
                    "source keyboard needs a terminal on stdin (or the keys `physai launch teleop:=keyboard` "
                    "relays); use source:=joy or script otherwise"
                )
            self.keyboard = teleop.KeyboardTeleop(cfg.speed_m_s, cfg.turn_rad_s)
            self._terminal = termios.tcgetattr(fd) if os.isatty(fd) else None
            self._reader = threading.Thread(target=self._read_keys, name="keyboard", daemon=True)
            self._reader.start()
            self.create_timer(1.0 / cfg.rate_hz, self.on_keyboard_tick, clock=STEADY)
            self._say(
                teleop.KEYBOARD_HELP
                + f"\nspeed {cfg.speed_m_s:g} m/s, turn {cfg.turn_rad_s:g} rad/s; Ctrl-D stops and quits"
            )

    def _say(self, text: str) -> None:
        """Print on the terminal (cbreak mode: lines end in CR LF)."""
        sys.stderr.write(text.replace("\n", "\r\n") + "\r\n")
        sys.stderr.flush()

    def open_writer(self) -> None:
        """The /cmd_vel writer: once this source is ready (a node awaiting /cmd_vel starts when it appears)."""
        self.pub = self.create_publisher(TwistStamped if self.config.stamped else Twist, "/cmd_vel", qos.RELIABLE)

    def publish(self, command: np.ndarray, stamp: TimeMsg | None = None) -> None:
        """Publish one command (vx m/s, vy m/s, yaw rate rad/s); stamped: at `stamp`, else the node clock's now."""
        assert self.pub is not None
        if self.config.stamped:
            self.pub.publish(twist_stamped(command, stamp or self.get_clock().now().to_msg()))
        else:
            self.pub.publish(twist(command))
        self.published += 1

    # ---- keyboard -----------------------------------------------------------------------------------------
    def _read_keys(self) -> None:
        fd = sys.stdin.fileno()
        if self._terminal is not None:
            tty.setcbreak(fd)  # Ctrl-C stays a signal (and under `physai launch` stops the whole launch)
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            key = os.read(fd, 1).decode(errors="replace")
            if not key:  # the relaying launcher closed the pipe
                return
            if key == "\x04":  # Ctrl-D: a zero command, then the node ends
                with self._lock:
                    self.command = self.keyboard.press("k")
                self.publish(self.command)
                time.sleep(0.2)  # let the reliable zero reach its readers
                os.kill(os.getpid(), signal.SIGINT)
                return
            with self._lock:
                before = (self.keyboard.speed_m_s, self.keyboard.turn_rad_s)
                self.command = self.keyboard.press(key)
                after = (self.keyboard.speed_m_s, self.keyboard.turn_rad_s)
            if after != before:
                self._say(f"speed {after[0]:.2f} m/s, turn {after[1]:.2f} rad/s")
            self.publish(self.command)

    def on_keyboard_tick(self) -> None:
        """Repeat the current key command at rate_hz."""
        with self._lock:
            command = self.command.copy()
        self.publish(command)

    # ---- joy ----------------------------------------------------------------------------------------------
    def on_joy(self, msg: Joy) -> None:
        """Scaled axes while the deadman is held; one zero command on release."""
        if self.pub is None:  # the joystick is there: /cmd_vel has a writer from now on
            self.open_writer()
        command = self.joy.command(list(msg.axes), list(msg.buttons))
        if command is None:
            if self._enabled:
                self.publish(np.zeros(3))
            self._enabled = False
            return
        self._enabled = True
        self.command = command
        self.publish(command)

    # ---- script -------------------------------------------------------------------------------------------
    def on_clock(self, msg: ClockMsg) -> None:
        """A /clock: the first opens the script's /cmd_vel writer (t is sim time); stamped, each gets its command."""
        if self.pub is None:
            self.open_writer()
            self._start_ns = 0
            self.get_logger().info("script on sim time" + ", one stamped command per /clock" * self.config.stamped)
            if not self.config.stamped:
                self.destroy_subscription(self._clock_sub)  # the wall-time timer publishes
        if not self.config.stamped:
            return
        self.command = self.timeline.at(convert.stamp_to_ns(msg.clock) / 1e9)
        self.publish(self.command, msg.clock)

    def on_script_tick(self) -> None:
        """The timeline's command: at sim time itself under use_sim_time, else since /cmd_vel's first reader."""
        if self.pub is None:
            return  # on sim time, before the first /clock
        now = self.get_clock().now().nanoseconds
        if self._start_ns is None:
            if self.pub.get_subscription_count() == 0:
                return
            self._start_ns = now
            self.get_logger().info("script started: /cmd_vel has a reader")
        self.command = self.timeline.at((now - self._start_ns) / 1e9)
        self.publish(self.command)

    def close(self) -> None:
        """Stop the key reader and restore the terminal."""
        self._stop.set()
        if self._terminal is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._terminal)


def main(args: list[str] | None = None) -> None:
    """Console entry point `teleop_node`."""
    run_node("teleop_node", TeleopNode, args)


if __name__ == "__main__":
    main()
