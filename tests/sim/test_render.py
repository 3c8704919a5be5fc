"""Offscreen rendering to a playable MP4."""

import imageio.v2 as imageio
import numpy as np

from physai.sim import Simulator
from physai.sim.render import VideoRecorder


def test_video_of_a_robot_is_playable_and_shows_it(tmp_path):
    sim = Simulator("testbed_arm")
    path = tmp_path / "arm.mp4"
    with VideoRecorder(sim.model, path, fps=20, width=320, height=240, camera=sim.spec.camera) as video:
        frames = []
        for _ in range(10):
            sim.step(25)
            frames.append(video.capture(sim.data))
    assert frames[0].shape == (240, 320, 3)
    assert frames[0].std() > 10, "frame looks blank"
    reader = imageio.get_reader(path)
    decoded = [frame for frame in reader]
    assert reader.get_meta_data()["codec"] == "h264"
    assert len(decoded) == 10
    assert np.abs(decoded[-1].astype(float) - frames[-1]).mean() < 12  # lossy, but the same picture
