"""Marker pose from MuJoCo-rendered 640×480 images of the marker cube: accuracy against the sim truth."""

import numpy as np

from physai.paths import scenes_dir
from physai.sim.marker import MARKER_SIZE_M, marker_box_geoms, marker_center, place_marker_cube
from physai.sim.mjcf import build_model
from physai.vision import Intrinsics, detect_markers, to_optical


def test_the_scene_draws_the_marker_the_code_describes():
    scene = (scenes_dir() / "marker_cube.xml").read_text()
    for line in marker_box_geoms():
        assert line in scene


def test_marker_position_over_50_random_placements_in_the_reach_workspace():
    import mujoco

    from physai.envs.config import ReachConfig
    from physai.robot import RobotSpec

    model = build_model(RobotSpec.load("testbed_arm"), "marker_cube")
    data = mujoco.MjData(model)
    camera = model.camera("scene_cam").id
    intrinsics = Intrinsics.from_fovy(640, 480, float(model.cam_fovy[camera]))
    renderer = mujoco.Renderer(model, 480, 640)
    workspace = ReachConfig()
    rng = np.random.default_rng(0)
    errors_mm, seen = [], 0
    for _ in range(50):
        place_marker_cube(model, data, rng.uniform(workspace.target_low_m, workspace.target_high_m), "scene_cam")
        renderer.update_scene(data, camera="scene_cam")
        found = [d for d in detect_markers(renderer.render(), intrinsics, MARKER_SIZE_M) if d.id == 7]
        truth = to_optical(marker_center(model, data), data.cam_xpos[camera], data.cam_xmat[camera])
        if found:
            seen += 1
            errors_mm.append(1000 * np.linalg.norm(found[0].position_m - truth))
    renderer.close()
    print(
        f"detected {seen}/50, error p50 {np.percentile(errors_mm, 50):.1f} mm, p95 {np.percentile(errors_mm, 95):.1f} mm"
    )
    assert seen >= 48  # ≥ 95 % with the marker in view
    assert np.percentile(errors_mm, 50) <= 5.0 and np.percentile(errors_mm, 95) <= 15.0
