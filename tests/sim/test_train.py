"""`physai train` end to end (a few thousand steps): run folder, checkpoints, resolved config, policy.onnx whose
contract matches the env, resume, and `physai export` of a checkpoint."""

import gymnasium as gym
import yaml

import physai.envs  # noqa: F401
from physai.cli import main
from physai.contract import read_from_onnx
from physai.policy.inference import OnnxPolicy


def test_short_training_run_produces_a_loadable_policy(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "physai/Reach-v0", "--steps", "2048", "--n-envs", "8", "--out", str(out)]
    argv += ["--checkpoint-every", "1024", "--hp", "n_steps=64", "--hp", "batch_size=256", "--hp", "learning_rate=1e-3"]
    assert main([*argv, "--no-progress"]) == 0
    for name in ("config.yaml", "model.zip", "policy.onnx", "export.yaml"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["ckpt_1024_steps.zip", "ckpt_2048_steps.zip"]
    assert any((out / "tb").rglob("events.out.tfevents.*"))
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["train"]["ppo"]["learning_rate"] == 0.001  # "1e-3" parsed as a number
    assert config["task_config"]["episode_length_s"] == 5.0
    env = gym.make("physai/Reach-v0").unwrapped
    assert read_from_onnx(out / "policy.onnx") == env.contract
    obs, _ = env.reset(seed=0)
    action = OnnxPolicy(out / "policy.onnx")(obs)
    assert action.shape == env.action_space.shape
    assert "trained 2,048 steps" in capsys.readouterr().out

    assert main([*argv[:3], "4096", *argv[4:], "--resume", "--no-progress"]) == 0  # continues to 4096
    assert (out / "checkpoints" / "ckpt_4096_steps.zip").is_file()

    exported = tmp_path / "ckpt.onnx"
    assert main(["export", str(out / "checkpoints" / "ckpt_1024_steps.zip"), "--out", str(exported)]) == 0
    assert read_from_onnx(exported) == env.contract
