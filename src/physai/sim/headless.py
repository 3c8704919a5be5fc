"""Headless simulation runs: hold a robot's default pose with default gains, optionally writing an MP4."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from physai.robot.command import JointCommand
from physai.robot.state import FALL, tilt_rad
from physai.sim.simulator import Simulator


@dataclass(frozen=True)
class HoldSummary:
    """Outcome of `hold_pose`."""

    robot: str
    seconds: float
    """Simulated time (s)."""
    wall_s: float
    """Wall-clock time (s), rendering included."""
    final_base_height_m: float
    max_tilt_rad: float
    fell: bool
    """True if the base tilted or sank past physai.robot.state.FALL (floating base only)."""
    video: str | None
    frames: int
    floating_base: bool = True
    """False for a fixed-base robot (an arm): it cannot fall, and `fell` is always False."""


def hold_pose(
    robot: str,
    seconds: float,
    scene: str = "flat",
    video: str | Path | None = None,
    fps: int = 30,
    seed: int | None = 0,
    noise: float = 0.0,
    progress: bool = True,
) -> HoldSummary:
    """Simulate `robot` holding its default pose for `seconds` (simulated), rendering at `fps` if `video`."""
    sim = Simulator(robot, scene)
    start = sim.reset(seed=seed, noise=noise)
    sim.apply(JointCommand.hold(sim.spec))
    steps_per_frame = max(1, round(1.0 / (fps * sim.physics_dt)))
    chunks = int(np.ceil(seconds / (steps_per_frame * sim.physics_dt)))
    recorder = None
    if video is not None:
        from physai.sim.render import VideoRecorder, frame_camera

        recorder = VideoRecorder(sim.model, video, fps=fps, camera=frame_camera(sim.model, sim.spec))
    max_tilt, wall = 0.0, time.perf_counter()
    try:
        for _ in tqdm(range(chunks), desc=f"simulating {sim.spec.name}", unit="frame", disable=not progress):
            sim.step(steps_per_frame)
            max_tilt = max(max_tilt, float(tilt_rad(sim.state().base_quat)))
            if recorder is not None:
                recorder.capture(sim.data)
    finally:
        if recorder is not None:
            recorder.close()
    state = sim.state()
    height = float(state.base_pos[2])
    fell = sim.spec.floating_base and bool(FALL.fallen(max_tilt, height, float(start.base_pos[2])))
    return HoldSummary(
        robot=sim.spec.name,
        seconds=float(state.time_s),
        wall_s=time.perf_counter() - wall,
        final_base_height_m=height,
        max_tilt_rad=max_tilt,
        fell=bool(fell),
        floating_base=sim.spec.floating_base,
        video=None if video is None else str(video),
        frames=0 if recorder is None else recorder.frames,
    )
