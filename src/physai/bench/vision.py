"""`physai bench vision`: per-frame render and marker-detection time, and image → /target_pose through ROS.

Figures (one run):
  <w>x<h>.render_ms_p50/p99     mujoco.Renderer frame of the marker cube from scene_cam
  <w>x<h>.detect_ms_p50/p99     physai.vision.detect_markers on that frame (ArUco + sub-pixel corners + IPPE)
  <w>x<h>.gray_ms_p50           cv2.cvtColor RGB→gray of the frame: the floor any detection pays (baseline)
  ros.latency_ms_p50            perception_node: image received → /target_pose published (its /diagnostics)
  ros.image_age_ms_p50          perception_node: sim-time age of the image at publish (stamp → publish)
Ratios: <w>x<h>.detect_vs_gray, detect_vs_render (same frames, same run).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from physai.bench.report import write_report
from physai.bringup.domain import own_domain
from physai.paths import scratch_dir

SIZES = ((320, 240), (640, 480))


def frame_timings(width: int, height: int, frames: int) -> dict[str, float]:
    """Render / gray / detect milliseconds (p50, p99) over `frames` placements of the marker cube."""
    import cv2
    import mujoco

    from physai.envs.config import ReachConfig
    from physai.robot import RobotSpec
    from physai.sim.marker import MARKER_SIZE_M, place_marker_cube
    from physai.sim.mjcf import build_model
    from physai.vision import Intrinsics, detect_markers

    model = build_model(RobotSpec.load("testbed_arm"), "marker_cube")
    data = mujoco.MjData(model)
    camera = model.camera("scene_cam").id
    intrinsics = Intrinsics.from_fovy(width, height, float(model.cam_fovy[camera]))
    renderer = mujoco.Renderer(model, height, width)
    workspace, rng = ReachConfig(), np.random.default_rng(0)
    render, gray, detect = [], [], []
    try:
        for _ in range(frames):
            place_marker_cube(model, data, rng.uniform(workspace.target_low_m, workspace.target_high_m), "scene_cam")
            t0 = time.perf_counter()
            renderer.update_scene(data, camera="scene_cam")
            image = renderer.render()
            t1 = time.perf_counter()
            cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            t2 = time.perf_counter()
            detect_markers(image, intrinsics, MARKER_SIZE_M)
            t3 = time.perf_counter()
            render.append(t1 - t0)
            gray.append(t2 - t1)
            detect.append(t3 - t2)
    finally:
        renderer.close()

    def ms(values: list[float], q: float) -> float:
        return float(np.percentile(values, q) * 1000.0)

    return {
        "render_ms_p50": ms(render, 50),
        "render_ms_p99": ms(render, 99),
        "detect_ms_p50": ms(detect, 50),
        "detect_ms_p99": ms(detect, 99),
        "gray_ms_p50": ms(gray, 50),
    }


def ros_latency(seconds: float) -> dict[str, float]:
    """perception_node's latency figures from a recorded `physai launch sim ... perception:=aruco` run."""
    from physai.bringup.launcher import launch
    from physai.bringup.sets import MARKER_SCENE_ARGUMENTS
    from physai.record import diagnostics, read_bag

    work = scratch_dir("bench-vision-")
    args = {
        **MARKER_SCENE_ARGUMENTS,
        "perception": "aruco",
        "max_sim_time_s": str(seconds),
        "record": str(work / "bag"),
        "record_topics": "/diagnostics",
    }
    result = launch("sim", args, duration_s=seconds * 3 + 30, run_dir=work / "run")
    if result.exit_code:
        raise RuntimeError(f"the perception run failed: {result.failed}")
    last: dict[str, str] = {}
    for item in read_bag(work / "bag", topics=["/diagnostics"]):
        for status in item.message.status:
            if status.name == diagnostics.PERCEPTION:
                last = {kv.key: kv.value for kv in status.values}
    if not last or last.get("latency_ms_p50", "-") == "-":
        raise RuntimeError("perception_node published no target in the run")
    return {"latency_ms_p50": float(last["latency_ms_p50"]), "image_age_ms_p50": float(last["image_age_ms_p50"])}


def run(frames: int = 100, seconds: float = 6.0, json_path: str | Path | None = None) -> dict:
    """Measure and report (see the module docstring)."""
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    for width, height in SIZES:
        key = f"{width}x{height}"
        timings = frame_timings(width, height, frames)
        figures[key] = timings
        ratios[f"{key}.detect_vs_gray"] = timings["detect_ms_p50"] / timings["gray_ms_p50"]
        ratios[f"{key}.detect_vs_render"] = timings["detect_ms_p50"] / timings["render_ms_p50"]
    with own_domain():  # never on a user's run's domain
        figures["ros"] = ros_latency(seconds)
    return write_report("vision", figures, ratios, json_path, frames=frames, seconds=seconds)
