"""Bad input as a user types it: each command, its exit code and the first line of its message (issue table).

Every row runs `physai ...` in-process as the console script would (argparse errors included) and checks that
nothing hangs, no traceback reaches the user, and the one line names what was typed and what was expected.
"""

from __future__ import annotations

import os
import shutil
import socket
import time

import pytest
from rclpy.serialization import serialize_message
from sensor_msgs.msg import JointState

from physai.cli import main
from physai.paths import data_root
from physai.record import McapRecorder, bag_info
from physai.rl.config import TrainConfig
from physai.rl.train import check_run_dir

pytestmark = pytest.mark.filterwarnings("ignore:module .sre_:DeprecationWarning")  # lark, inside mcap_ros2
WALK = str(data_root() / "policies" / "biped_walk" / "policy.onnx")
ARM = str(data_root() / "policies" / "arm_reach" / "policy.onnx")


def _free_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, first line of stderr) of `physai argv` — the usage lines of an argparse error skipped."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in err if "error:" in line] or err
    assert not any(line.startswith("Traceback") for line in err), err
    return code, errors[0] if errors else ""


CASES = [
    # hangs and silent non-runs (each now ends at once with a message)
    (["launch", "sim", "mode:=lockstep", "max_sim_time_s:=5"], 2, "mode:=lockstep needs policy:="),
    (["launch", "sim", "push_schedule:=[[1,2]]"], 2, "argument push_schedule[0]:=[1, 2]; expected JSON"),
    (["train", "--steps", "0"], 2, "--steps 0; expected a whole number ≥ 1"),
    (["sim", "--seconds", "-1"], 2, "argument --seconds: -1; expected a number > 0"),
    (["launch", "sim", f"policy:={WALK}", "max_sim_time_s:=-1"], 2, "argument max_sim_time_s:=-1; expected seconds"),
    (["launch", "sim", "duration:=-5"], 2, "argument duration:=-5; expected seconds > 0"),
    (["launch", "sim", "realtime_priority:=maybe"], 2, "argument realtime_priority:=maybe; expected true or false"),
    (["launch", "sim", "seed:=1", "seed:=2"], 2, "argument seed:= given twice (1 and 2)"),
    # tracebacks that reached the user
    (["sim", "--fps", "0"], 2, "argument --fps: 0; expected a whole number ≥ 1"),
    (["eval", WALK, "--task", "physai/Nope-v0"], 2, "argument --task: physai/Nope-v0; expected one of physai/"),
    (["train", "--hp", "n_steps=abc"], 2, "--hp n_steps=abc; expected a whole number"),
    (["sweep", "--grid", "ppo.learning_rate=abc,def", "--steps", "4096"], 2, "--grid ppo.learning_rate: the value"),
    # errors in the user's words, not internal fields
    (["train", "--n-envs", "0"], 2, "--n-envs 0; expected a whole number ≥ 1"),
    (["launch", "sim", "timeout_s:=-1"], 2, "argument timeout_s:=-1; expected a finite number > 0"),
    (["launch", "sim", "duration:=abc"], 2, "argument duration:=abc; expected seconds > 0"),
    (["eval", WALK, "--task", "physai/Walk-v0", "--robot", "unitree_g1"], 2, "trained for robot 'testbed_biped'"),
    (["launch", "sim", "camera_width:=0"], 2, "argument camera_width:=0; expected 16–4096 pixels"),
    (["launch", "hil", "faults:=drop_pct=500"], 2, "fault 'drop_pct' is 500.0; expected a number in [0, 100]"),
    (
        ["launch", "sim", "camera:=scene_cam", "camera_noise:=blur=5:1"],
        2,
        "argument camera_noise:=blur=5:1; expected blur",
    ),
    (
        ["eval", ARM, "--task", "physai/Reach-v0", "--target-from", "vision", "--set", "image_noise=glare=1"],
        2,
        "field 'image_noise' is 'glare=1'; expected setting one of brightness=, blur=, noise=",
    ),
    # output paths, work bounds
    (["sim", "--video", "/nonexistent_dir/x.mp4"], 2, "the folder /nonexistent_dir does not exist"),
    (["eval", WALK, "--task", "physai/Walk-v0", "--json", "/nonexistent_dir/r.json"], 2, "does not exist"),
    (["train", "--n-envs", "100000", "--steps", "256"], 2, "--steps 256; expected at least one rollout"),
    (["bench", "driver", "--motors", "30", "--seconds", "1"], 2, "motor count 30: expected one of"),
]


@pytest.mark.parametrize(("argv", "code", "first_line"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_one_line_naming_what_was_typed(argv, code, first_line, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # nothing is written into the checkout (train's default --out is runs/run)
    began = time.monotonic()
    got_code, line = run(argv, capsys)
    assert (got_code, first_line in line) == (code, True), line
    assert time.monotonic() - began < 30
    assert not (tmp_path / "runs").exists() and not os.path.exists("/nonexistent_dir")


def test_unreachable_ray_address_is_refused_at_once(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    address = f"127.0.0.1:{_free_port()}"
    began = time.monotonic()
    code, line = run(["sweep", "--ray-address", address, "--steps", "4096"], capsys)
    assert code == 2 and f"--ray-address {address}: no Ray head answers there" in line, line
    assert time.monotonic() - began < 30


def test_train_refuses_a_folder_holding_a_run_and_says_how_it_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "old"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "model.zip").write_bytes(b"PK")
    code, line = run(["train", "--out", str(run_dir), "--steps", "4096"], capsys)
    assert code == 2 and f"--out {run_dir}; expected a new run folder (it holds model.zip, checkpoints" in line
    assert (run_dir / "model.zip").read_bytes() == b"PK"  # nothing overwritten

    assert check_run_dir(TrainConfig(out=str(run_dir), resume=True)) == run_dir / "model.zip"
    assert f"resume: from {run_dir / 'model.zip'}" in capsys.readouterr().err
    assert check_run_dir(TrainConfig(out=str(tmp_path / "empty"), resume=True)) is None
    assert f"resume: no checkpoint in {tmp_path / 'empty'}; starting fresh" in capsys.readouterr().err


def test_record_refuses_an_existing_bag_and_a_missing_parent(tmp_path, capsys):
    (tmp_path / "bag").mkdir()
    (tmp_path / "bag" / "bag_0.mcap").write_bytes(b"x")
    code, line = run(["record", str(tmp_path / "bag"), "--duration", "1"], capsys)
    assert code == 2 and "already exists; choose a new one" in line, line
    code, line = run(["record", str(tmp_path / "no" / "bag"), "--duration", "1"], capsys)
    assert code == 2 and "does not exist" in line, line


def test_record_info_of_a_truncated_bag_warns_and_fails(tmp_path, capsys):
    bag = tmp_path / "run"
    recorder = McapRecorder(bag, chunk_size=2048)
    for i in range(400):
        msg = JointState(name=["a", "b"], position=[0.1 * i, 0.2], velocity=[0.0, 0.0], effort=[0.0, 0.0])
        recorder.add("/joint_states", "sensor_msgs/msg/JointState", serialize_message(msg), 1_000_000 * (i + 1))
    recorder.close()
    code, _ = run(["record", "--info", str(bag)], capsys)
    assert code == 0
    mcap = bag / "run_0.mcap"
    shutil.copy(mcap, tmp_path / "whole.mcap")
    with mcap.open("r+b") as f:
        f.truncate(mcap.stat().st_size // 2)
    left = bag_info(bag).message_count
    assert 0 < left < 400
    try:
        code = main(["record", "--info", str(bag)])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 1
    assert f"WARNING:   {400 - left:,} of 400 recorded messages are gone" in captured.out
    assert "/joint_states" in captured.out and "sensor_msgs/msg/JointState" in captured.out  # the topic table
    assert f"lost {400 - left:,} of its 400 messages" in captured.err
