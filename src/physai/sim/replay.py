"""Render a recorded run: base pose from /odom and joint positions from /joint_states, replayed into MuJoCo.

Rendering happens after the run, from the bag, so it never loads the control loop.
"""

from __future__ import annotations

from pathlib import Path

import mujoco

from physai.record import read_bag, velocity_command
from physai.sim.render import VideoRecorder, frame_camera
from physai.sim.simulator import Simulator


def render_bag(bag: str | Path, robot: str, video: str | Path, scene: str = "flat", fps: int = 30) -> int:
    """Write an MP4 of the recorded motion at `fps` (sim time); returns the number of frames.

    Each frame shows the sim time and, when /cmd_vel was recorded, the commanded and measured velocity
    (vx, vy m/s, yaw rate rad/s; measured: /odom's twist in the IMU frame).
    """
    sim = Simulator(robot, scene)
    model, data, layout = sim.model, sim.data, sim.layout
    index = {name: i for i, name in enumerate(sim.spec.joint_names)}
    frames = 0
    next_frame_s = None
    joint_pos = sim.spec.default_pose.copy()
    with VideoRecorder(model, video, fps=fps, camera=frame_camera(model, sim.spec)) as recorder:
        command = None
        for item in read_bag(bag, topics=["/odom", "/joint_states", "/cmd_vel"]):
            msg = item.message
            if item.topic == "/cmd_vel":
                command = velocity_command(msg)
                continue
            if item.topic == "/joint_states":
                for name, q in zip(msg.name, msg.position, strict=False):
                    if name in index:
                        joint_pos[index[name]] = q
                continue
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            if next_frame_s is not None and t < next_frame_s:
                continue
            next_frame_s = t + 1.0 / fps
            p, q = msg.pose.pose.position, msg.pose.pose.orientation
            if layout.base_qpos >= 0:
                data.qpos[layout.base_qpos : layout.base_qpos + 7] = [p.x, p.y, p.z, q.w, q.x, q.y, q.z]
            data.qpos[layout.joint_qpos] = joint_pos
            mujoco.mj_forward(model, data)
            text = f"sim time {t:6.2f} s"
            if command is not None:
                v, w = msg.twist.twist.linear, msg.twist.twist.angular
                text += (
                    f"\ncommanded vx {command[0]:+.2f} vy {command[1]:+.2f} m/s  yaw {command[2]:+.2f} rad/s"
                    f"\nmeasured  vx {v.x:+.2f} vy {v.y:+.2f} m/s  yaw {w.z:+.2f} rad/s"
                )
            recorder.capture(data, text)
            frames += 1
    return frames


__all__ = ["render_bag"]
