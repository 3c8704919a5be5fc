"""sim_node's camera topics: images rendered off the control thread, at a capped rate, with a pinhole CameraInfo."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from physai.bringup.launcher import launch
from physai.record import diagnostics as status_names
from physai.record import read_bag
from physai.record.summary import summarize
from tests.ros.rosprobe import BALANCE_POLICY

pytestmark = pytest.mark.ros

TOPICS = "/camera/image_raw,/camera/camera_info,/joint_states,/diagnostics"


def test_tracking_camera_publishes_images_and_camera_info_while_the_loop_runs(tmp_path):
    bag = tmp_path / "bag"
    args = {
        "policy": str(BALANCE_POLICY),
        "max_sim_time_s": "4",
        "camera": "tracking",
        "camera_rate_hz": "5",
        "record": str(bag),
        "record_topics": TOPICS,
    }
    result = launch("sim", args, duration_s=60, run_dir=tmp_path / "run")
    assert result.exit_code == 0, result.failed
    images = [m.message for m in read_bag(bag, decode=True, topics=["/camera/image_raw"])]
    infos = [m.message for m in read_bag(bag, decode=True, topics=["/camera/camera_info"])]
    # ~5 Hz of wall time while the sim runs (4 s of sim time; longer on a loaded machine), never above the cap:
    # consecutive images at least one period apart on the camera's clock (publish times: DDS source timestamps)
    published = [m.publish_time_ns / 1e9 for m in read_bag(bag, topics=["/camera/image_raw"])]
    gaps = np.diff(published)
    assert len(images) >= 8 and len(infos) == len(images), len(images)
    assert np.median(gaps) >= 0.19 and gaps.min() >= 0.1, np.round(gaps, 3)  # less the render-time jitter
    first = images[0]
    assert (first.width, first.height, first.encoding, first.step) == (320, 240, "rgb8", 960)
    pixels = np.frombuffer(bytes(first.data), dtype=np.uint8).reshape(240, 320, 3)
    assert pixels.std() > 5  # a rendered scene, not a blank frame
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in images]
    assert all(b >= a for a, b in itertools.pairwise(stamps)) and 0 < stamps[-1] <= 4.01  # sim time
    info = infos[0]
    fy = 120 / math.tan(math.radians(45.0) / 2)
    assert np.allclose(info.k, [fy, 0, 159.5, 0, fy, 119.5, 0, 0, 1])
    assert info.header.frame_id == first.header.frame_id == "camera_optical_frame"
    summary = summarize(bag)
    assert not summary.fell
    sim = summary.diagnostics[status_names.SIM_SAFETY]
    assert int(sim["camera_images"]) > 0  # counted on /diagnostics (its last one may precede the last images)


def test_unknown_camera_is_refused_at_start_naming_the_cameras(tmp_path):
    args = {"robot": "testbed_arm", "camera": "nope", "max_sim_time_s": "1"}
    result = launch("sim", args, duration_s=30, run_dir=tmp_path / "run")
    assert result.exit_code == 1
    assert "parameter 'camera' is 'nope'; expected 'tracking' or a camera of the model" in result.failed
    assert "scene_cam" in result.failed


def test_camera_noise_is_put_on_the_published_images(tmp_path):
    from physai.bringup.sets import MARKER_SCENE_ARGUMENTS
    from physai.paths import data_root

    def images(noise: str) -> dict[int, np.ndarray]:
        """The recorded images by stamp (ns)."""
        bag = tmp_path / f"bag{len(noise)}"
        args = {  # lockstep: the camera renders on sim time, so both runs see the same first scene
            **MARKER_SCENE_ARGUMENTS,
            "camera_width": "320",
            "camera_height": "240",
            "policy": str(data_root() / "policies" / "arm_reach" / "policy.onnx"),
            "target_pos": "[0.4, 0.0, 0.25]",
            "mode": "lockstep",
            "max_sim_time_s": "0.5",
            "camera_noise": noise,
            "record": str(bag),
            "record_topics": "/camera/image_raw",
        }
        result = launch("sim", args, duration_s=60, run_dir=tmp_path / f"run{len(noise)}")
        assert result.exit_code == 0, result.failed
        return {
            m.message.header.stamp.sec * 10**9 + m.message.header.stamp.nanosec: np.frombuffer(
                bytes(m.message.data), np.uint8
            ).reshape(240, 320, 3)
            for m in read_bag(bag, topics=["/camera/image_raw"])
        }

    clean, noisy = images(""), images("noise=12")
    stamp = min(set(clean) & set(noisy))  # the same sim time: the same scene (lockstep is deterministic)
    difference = noisy[stamp].astype(float) - clean[stamp]
    assert abs(difference.mean()) < 1.0 and 10.0 < difference.std() < 13.0  # Gaussian, 12 grey levels (clipped)
