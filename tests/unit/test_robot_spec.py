"""RobotSpec: every shipped robot cross-checked against its MJCF; malformed robot.yaml files refused by field."""

import shutil
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from physai.robot import RobotSpec, RobotSpecError, available_robots
from physai.sim.mjcf import build_model, load_mjspec

ROBOTS = ["testbed_arm", "testbed_biped", "unitree_g1", "unitree_h1"]
EXPECTED_DOF = {"unitree_g1": 29, "unitree_h1": 19, "testbed_biped": 12, "testbed_arm": 7}


def test_registry_lists_every_robot():
    assert available_robots() == ROBOTS


@pytest.mark.parametrize("name", ROBOTS)
def test_spec_matches_its_mjcf(name):
    spec = RobotSpec.load(name)
    assert spec.n_joints == EXPECTED_DOF[name]
    model = load_mjspec(spec).compile()
    for joint in spec.joints:
        jid = model.joint(joint.name).id
        lo, hi = model.jnt_range[jid]
        assert lo - 1e-9 <= joint.lower < joint.upper <= hi + 1e-9, joint.name
        assert joint.lower <= joint.default <= joint.upper, joint.name
        assert joint.kp >= 0 and joint.kd >= 0 and joint.effort > 0 and joint.velocity > 0
        driven = [a for a in range(model.nu) if model.actuator_trnid[a, 0] == jid]
        assert driven, f"{joint.name} has no actuator in the MJCF"
    if spec.floating_base:
        assert spec.imu_site and model.site(spec.imu_site).id >= 0
        assert len(spec.foot_bodies) == 2
    assert spec.kp.shape == spec.default_pose.shape == (spec.n_joints,)


def test_g1_efforts_match_menagerie_actuator_limits():
    spec = RobotSpec.load("unitree_g1")
    model = load_mjspec(spec).compile()
    for joint in spec.joints:
        jid = model.joint(joint.name).id
        assert joint.effort == pytest.approx(model.jnt_actfrcrange[jid, 1]), joint.name


@pytest.fixture
def biped_copy(tmp_path: Path) -> Path:
    """A writable copy of testbed_biped's folder (robot.yaml + MJCF)."""
    src = RobotSpec.load("testbed_biped").source.parent
    dst = tmp_path / "testbed_biped"
    shutil.copytree(src, dst)
    return dst / "robot.yaml"


def _edit(path: Path, mutate) -> None:
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


MALFORMED = [
    ("unknown top-level key", lambda d: d.update(colour="red"), "colour", "no such key"),
    ("missing required key", lambda d: d.pop("base_body"), "base_body", "required"),
    ("unknown joint key", lambda d: d["joints"][0].update(stiffness=3), "joints[0].stiffness", "no such key"),
    (
        "lower above upper",
        lambda d: d["joints"][2].update(lower=1.0, upper=-1.0),
        "joints[2].upper",
        "greater than lower",
    ),
    (
        "default outside limits",
        lambda d: d["joints"][3].update(default=9.0),
        "joints[3].default",
        "within [lower, upper]",
    ),
    ("negative gain", lambda d: d["joints"][1].update(kp=-5.0), "joints[1].kp", "≥ 0"),
    ("zero effort", lambda d: d["joints"][1].update(effort=0), "joints[1].effort", "> 0"),
    ("non-numeric limit", lambda d: d["joints"][0].update(velocity="fast"), "joints[0].velocity", "finite number"),
    ("joint not in MJCF", lambda d: d["joints"][4].update(name="left_toe"), "joints[4].name", "name of a joint"),
    ("limit outside MJCF range", lambda d: d["joints"][0].update(upper=3.0), "joints[0].upper", "MJCF joint range"),
    (
        "effort above MJCF force limit",
        lambda d: d["joints"][0].update(effort=5000.0),
        "joints[0].effort",
        "force limit",
    ),
    ("missing IMU site", lambda d: d.update(imu_site="no_such_site"), "imu_site", "name of a site"),
    ("missing MJCF file", lambda d: d.update(mjcf="nowhere.xml"), "mjcf", "not found"),
    ("name differs from folder", lambda d: d.update(name="other_bot"), "name", "folder name"),
    ("duplicate joint", lambda d: d["joints"].append(dict(d["joints"][0])), "joints[12].name", "not listed before"),
    ("floating base without a height", lambda d: d.update(base_height_m=None), "base_height_m", "free-joint base"),
    ("empty joint list", lambda d: d.update(joints=[]), "joints", "non-empty list"),
]


@pytest.mark.parametrize(("case", "mutate", "field", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_robot_yaml_is_refused_naming_the_field(biped_copy, case, mutate, field, expected):
    _edit(biped_copy, mutate)
    with pytest.raises(RobotSpecError) as info:
        build_model(RobotSpec.load(biped_copy))  # the YAML checks, then the MJCF cross-check of every build
    err = info.value
    assert err.field == field, f"{case}: {err}"
    assert expected in str(err)
    assert str(biped_copy) in str(err)


def test_joint_not_actuated_in_mjcf_is_refused(biped_copy):
    xml = biped_copy.parent / "testbed_biped.xml"
    spec = mujoco.MjSpec.from_file(str(xml))
    name = RobotSpec.load(biped_copy).joints[5].name
    for actuator in list(spec.actuators):
        if actuator.target == name:
            spec.delete(actuator)
    xml.write_text(spec.to_xml())
    spec = RobotSpec.load(biped_copy)  # the YAML alone is fine: the robot side needs no MJCF
    with pytest.raises(RobotSpecError, match=r"joints\[5\]\.name.*driven by an actuator"):
        build_model(spec)


def test_invalid_yaml_syntax_is_refused(biped_copy):
    biped_copy.write_text("name: [unclosed\n")
    with pytest.raises(RobotSpecError, match="valid YAML"):
        RobotSpec.load(biped_copy)


def test_unknown_robot_name_lists_known_robots():
    with pytest.raises(FileNotFoundError, match="known robots: testbed_arm, testbed_biped"):
        RobotSpec.load("no_such_robot")


def test_spec_arrays_follow_joint_order():
    spec = RobotSpec.load("unitree_g1")
    assert spec.joint_names[0] == "left_hip_pitch_joint"
    assert np.all(spec.lower < spec.upper)
    assert spec.effort_limit[spec.joint_names.index("left_knee_joint")] == pytest.approx(139.0)
