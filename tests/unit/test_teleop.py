"""The teleop mappings: teleop_twist_keyboard keys, Joy with a deadman button, scripted timelines."""

import numpy as np
import pytest

from physai.control.teleop import CommandTimeline, JoyMapping, KeyboardTeleop, TeleopScriptError


def test_keyboard_keys_as_teleop_twist_keyboard():
    keys = KeyboardTeleop(speed_m_s=0.5, turn_rad_s=1.0)
    np.testing.assert_allclose(keys.press("i"), [0.5, 0.0, 0.0])
    np.testing.assert_allclose(keys.press(","), [-0.5, 0.0, 0.0])
    np.testing.assert_allclose(keys.press("j"), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(keys.press("l"), [0.0, 0.0, -1.0])
    np.testing.assert_allclose(keys.press("J"), [0.0, 0.5, 0.0])  # holonomic: strafe left
    np.testing.assert_allclose(keys.press("L"), [0.0, -0.5, 0.0])
    np.testing.assert_allclose(keys.press("u"), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(keys.press("k"), [0.0, 0.0, 0.0])
    keys.press("i")
    np.testing.assert_allclose(keys.press("q"), [0.55, 0.0, 0.0])  # speeds ×1.1, direction kept
    np.testing.assert_allclose(keys.press("x"), [0.495, 0.0, 0.0])  # linear ×0.9
    np.testing.assert_allclose(keys.press("t"), [0.495, 0.0, 0.0])  # up/down: ignored
    np.testing.assert_allclose(keys.press(" "), [0.0, 0.0, 0.0])  # any other key stops


def test_joy_deadman_and_axes():
    joy = JoyMapping(deadman_button=4, axis_vx=1, axis_vy=0, axis_yaw=3, scale_vx_m_s=0.5, scale_vy_m_s=0.3)
    axes = [0.5, -1.0, 0.0, 0.25]
    assert joy.command(axes, [0, 0, 0, 0, 0]) is None
    assert joy.command(axes, [1, 1]) is None  # a pad without button 4: never enabled
    np.testing.assert_allclose(joy.command(axes, [0, 0, 0, 0, 1]), [-0.5, 0.15, 0.25])
    np.testing.assert_allclose(joy.command([float("nan")] * 4, [0, 0, 0, 0, 1]), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(JoyMapping(deadman_button=-1).command([0, 1.0], []), [0.5, 0.0, 0.0])


def test_timeline_is_piecewise_constant():
    line = CommandTimeline.from_entries([{"t": 1.0, "vx": 0.4}, {"t": 3.0, "yaw_rate": 0.8}, {"t": 5.0}])
    np.testing.assert_allclose(line.at(0.5), [0, 0, 0])
    np.testing.assert_allclose(line.at(1.0), [0.4, 0, 0])
    np.testing.assert_allclose(line.at(2.9), [0.4, 0, 0])
    np.testing.assert_allclose(line.at(3.5), [0, 0, 0.8])
    np.testing.assert_allclose(line.at(60.0), [0, 0, 0])
    assert line.end_s == 5.0


@pytest.mark.parametrize(
    ("entries", "named"),
    [
        ([], "non-empty list"),
        ([{"vx": 1.0}], "entry 0"),
        ([{"t": 0, "vx": "fast"}], "entry 0 vx"),
        ([{"t": 0, "vz": 1.0}], "unknown keys ['vz']"),
        ([{"t": 1.0}, {"t": 1.0}], "entry 1 t"),
        ([{"t": 0, "yaw_rate": float("inf")}], "entry 0 yaw_rate"),
    ],
)
def test_bad_script_names_the_entry(entries, named):
    with pytest.raises(TeleopScriptError, match=named.replace("[", r"\[").replace("]", r"\]")):
        CommandTimeline.from_entries(entries, "walk.yaml")


def test_missing_script_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CommandTimeline.load(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {t: 0, vx: [\n")
    with pytest.raises(TeleopScriptError, match="not valid YAML"):
        CommandTimeline.load(bad)
