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
    assert lines["unitree_g1"][1:3] == ["35", "29"]  # DoF (nv), actuators
    assert 30 < float(lines["unitree_g1"][3]) < 40  # mass, kg


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
