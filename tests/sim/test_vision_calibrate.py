"""`physai vision calibrate`: rendered checkerboards recover the published intrinsics; a wrong camera_info is caught."""

from physai.cli import main
from physai.paths import scenes_dir
from physai.sim.calibration_board import board_box_geoms


def test_the_scene_draws_the_board_the_code_describes():
    scene = (scenes_dir() / "checkerboard.xml").read_text()
    assert all(line in scene for line in board_box_geoms())


def test_calibration_recovers_the_published_intrinsics_within_1_percent(capsys):
    assert main(["vision", "calibrate", "--robot", "testbed_arm", "--camera", "scene_cam", "--views", "20"]) == 0
    out = capsys.readouterr().out
    assert "camera_info matches the images (within 1 %)" in out
    rms = float(out.split("RMS reprojection ")[1].split(" px")[0])
    assert rms < 0.5
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:2] in ("fx", "fy", "cx", "cy")}
    assert all(float(rows[n][3]) <= 1.0 for n in ("fx", "fy", "cx", "cy")), rows


def test_a_wrong_camera_info_is_reported(capsys):
    published_fy = 240 / 0.46630765815  # tan(25°): scene_cam's fovy is 50°
    wrong = f"{published_fy * 1.05:.2f},{published_fy:.2f},319.5,239.5"  # fx 5 % too long
    assert main(["vision", "calibrate", "--views", "20", "--k", wrong]) == 1
    out = capsys.readouterr().out
    assert "camera_info does not match the images: fx differs by 5." in out
