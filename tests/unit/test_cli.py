"""The `physai` command: tables, the headless sim with video, the sim benchmark report, clear errors."""

import json
import subprocess
import sys

import imageio.v2 as imageio
import pytest

from physai.cli import main


def test_robots_table_lists_every_robot_with_facts(capsys):
    assert main(["robots"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(lines) == {"testbed_arm", "testbed_biped", "unitree_g1", "unitree_h1"}
    assert lines["unitree_g1"][1:4] == ["29", "floating", "35"]  # joints, base, nv (29 + the free base's 6)
    assert lines["testbed_arm"][1:4] == ["7", "fixed", "8"]  # the mirrored finger joint is not actuated
    assert 30 < float(lines["unitree_g1"][4]) < 40  # mass, kg


def test_robot_show_prints_joint_table(capsys):
    assert main(["robot", "show", "unitree_h1"]) == 0
    out = capsys.readouterr().out
    assert "left_knee" in out and "imu site" in out


def test_sim_writes_video_and_summary(tmp_path, capsys):
    video, summary = tmp_path / "g1.mp4", tmp_path / "g1.json"
    code = main(
        [
            "sim",
            "--robot",
            "unitree_g1",
            "--seconds",
            "0.5",
            "--video",
            str(video),
            "--fps",
            "20",
            "--json",
            str(summary),
        ]
    )
    assert code == 0
    result = json.loads(summary.read_text())
    assert result["fell"] is False and result["frames"] == 10
    assert sum(1 for _ in imageio.get_reader(video)) == 10
    assert "stayed up" in capsys.readouterr().out


def test_bench_sim_writes_report(tmp_path):
    path = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "sim",
            "--robot",
            "testbed_biped",
            "--steps",
            "200",
            "--repeats",
            "1",
            "--nsim",
            "2",
            "--json",
            str(path),
        ]
    )
    assert code == 0
    report = json.loads(path.read_text())
    assert report["bench"] == "sim"
    assert set(report["ratios"]) == {"simulator_vs_raw_mj_step", "batch_vs_2x_single"}
    assert all(
        report["figures"][k] > 0 for k in ("raw_mj_step_steps_per_s", "simulator_steps_per_s", "batch_steps_per_s")
    )


def test_unknown_robot_is_one_clear_error_line():
    proc = subprocess.run(
        [sys.executable, "-m", "physai.cli", "sim", "--robot", "nobot"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "unknown robot 'nobot'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "argv", [["--help"], ["sim", "--help"], ["bench", "sim", "--help"], ["robot", "show", "--help"]]
)
def test_help_explains(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert len(capsys.readouterr().out) > 200


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare word sequences


@pytest.mark.parametrize(("command", "config"), [("train", "TrainConfig"), ("sweep", "SweepConfig")])
def test_train_and_sweep_options_are_the_config_fields_with_their_defaults_and_docs(command, config, capsys):
    import dataclasses

    from physai.fields import field_docs
    from physai.rl import config as train_config
    from physai.rl import sweep

    cls = getattr(train_config if config == "TrainConfig" else sweep, config)
    text = _help([command], capsys)
    docs = field_docs(cls)
    scalars = [f for f in dataclasses.fields(cls) if isinstance(f.default, (bool, int, float, str, type(None)))]
    assert len(scalars) >= 10
    for f in scalars:
        if f.name != "task":
            flag = f.name.replace("_", "-")
            assert f"--{flag}" in text or f"--no-{flag}" in text, f.name
        assert " ".join(docs[f.name].split()) in text, f.name
        if not isinstance(f.default, bool):
            assert f"(default: {'none' if f.default is None else f.default})" in text, f.name


@pytest.mark.parametrize("set_name", ["sim", "hil", "robot"])
def test_launch_arguments_are_the_nodes_parameters_with_their_defaults_and_docs(set_name, capsys):
    import dataclasses

    from physai.bringup.sets import LAUNCH_ARGUMENTS, SET_ARGUMENTS, bringup
    from physai.fields import field_docs
    from physai.ros.node_config import DriverNodeConfig, MotorSimNodeConfig, PolicyNodeConfig, SimNodeConfig

    configs = {"sim_node": SimNodeConfig, "driver_node": DriverNodeConfig, "motor_sim_node": MotorSimNodeConfig}
    configs["policy_node"] = PolicyNodeConfig
    spec = LAUNCH_ARGUMENTS[set_name]
    declared: dict[str, set[tuple]] = {}  # argument → (default, doc) of each node parameter of that name
    for node in bringup(set_name, {"policy": "/p/policy.onnx"}):
        cls = configs.get(node.name)
        if cls is None:
            continue
        defaults, docs = {f.name: f.default for f in dataclasses.fields(cls)}, field_docs(cls)
        for name in (set(spec) - set(SET_ARGUMENTS)) & set(defaults):
            declared.setdefault(name, set()).add((defaults[name], docs[name]))
    assert set(declared) == set(spec) - set(SET_ARGUMENTS)  # every other argument is a node parameter
    for name, sources in declared.items():
        assert spec[name] in sources, f"{name}: launch {spec[name]!r}; the nodes' {sorted(sources)}"
    text = _help(["launch", set_name], capsys)
    for name, (default, doc) in spec.items():
        assert f"{name}:={default!r}" in text and " ".join(doc.split()) in text, name
