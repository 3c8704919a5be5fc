"""Render a recorded run: base pose from /odom and joint positions from /joint_states, replayed into MuJoCo.

Rendering happens after the run, from the bag, so it never loads the control loop.
"""

from __future__ import annotations

from pathlib import Path

import mujoco

from physai.record import read_bag
from physai.sim.render import VideoRecorder, frame_camera
from physai.sim.simulator import Simulator


def render_bag(bag: str | Path, robot: str, video: str | Path, scene: str = "flat", fps: int = 30) -> int:
    """Write an MP4 of the recorded motion at `fps` (sim time); returns the number of frames."""
    sim = Simulator(robot, scene)
    model, data, layout = sim.model, sim.data, sim.layout
    index = {name: i for i, name in enumerate(sim.spec.joint_names)}
    frames = 0
    next_frame_s = None
    joint_pos = sim.spec.default_pose.copy()
    with VideoRecorder(model, video, fps=fps, camera=frame_camera(model, sim.spec)) as recorder:
        for item in read_bag(bag, topics=["/odom", "/joint_states"]):
            msg = item.message
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
            recorder.capture(data)
            frames += 1
    return frames


__all__ = ["render_bag"]
