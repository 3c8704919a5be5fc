"""Bad input of every kind is one FieldError shape: source, field, value and expected, in one line."""

from __future__ import annotations

import pytest
import yaml

from physai.drivers.config import HardwareConfig, HardwareConfigError
from physai.envs.config import BalanceConfig, TaskConfigError, load_task_config
from physai.errors import FieldError
from physai.hil.faults import FaultConfig, FaultConfigError
from physai.paths import robot_descriptions_dir
from physai.robot import RobotSpec, RobotSpecError


def _robot_yaml(tmp_path):
    data = yaml.safe_load((robot_descriptions_dir() / "testbed_biped" / "robot.yaml").read_text())
    data["joints"][3]["effort"] = -1.0
    folder = tmp_path / "testbed_biped"
    folder.mkdir()
    (folder / "robot.yaml").write_text(yaml.safe_dump(data))
    return lambda: RobotSpec.load(folder / "robot.yaml")


def _hardware_yaml(tmp_path):
    data = yaml.safe_load((robot_descriptions_dir() / "testbed_biped" / "hardware.yaml").read_text())
    data["buses"][0]["bitrate"] = "fast"
    path = tmp_path / "hardware.yaml"
    path.write_text(yaml.safe_dump(data))
    return lambda: HardwareConfig.load(path, RobotSpec.load("testbed_biped"))


CASES = [
    ("robot.yaml", _robot_yaml, RobotSpecError, "joints[3].effort", -1.0),
    ("hardware.yaml", _hardware_yaml, HardwareConfigError, "buses[0].bitrate", "fast"),
    (
        "task YAML",
        lambda _: lambda: load_task_config(BalanceConfig, "balance", {"control_dt_s": -1}),
        TaskConfigError,
        "control_dt_s",
        -1,
    ),
    ("fault spec", lambda _: lambda: FaultConfig.parse("drop_pct=abc"), FaultConfigError, "drop_pct", "abc"),
]


@pytest.mark.parametrize(("case", "make", "kind", "field", "value"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_field_error_naming_field_value_and_expectation(tmp_path, case, make, kind, field, value):
    with pytest.raises(FieldError) as info:
        make(tmp_path)()
    err = info.value
    assert isinstance(err, kind) and isinstance(err, ValueError)
    assert (err.field, err.value) == (field, value)
    assert err.expected and f"'{field}' is {err.value!r}; expected {err.expected}" in str(err)
    assert "\n" not in str(err)
