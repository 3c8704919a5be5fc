"""physai.rl.sweep: seed/grid parsing, config checks, and a 2-trial Reach sweep on a local loopback Ray."""

import csv
import json
import math
import signal
from pathlib import Path

import pytest

from physai.rl.config import TrainConfig
from physai.rl.sweep import SweepConfig, apply_setting, check_config, parse_grid, parse_seeds, run_sweep, trial_configs


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("0,2,5") == [0, 2, 5]
    assert parse_seeds("0-1, 7") == [0, 1, 7]
    assert parse_seeds("4") == [4]
    for bad in ("3-0", "a", "0,,1", "-1", "0,0"):
        with pytest.raises(ValueError, match="seeds"):
            parse_seeds(bad)


def test_parse_grid_values_are_yaml_with_float_exponents():
    grid = parse_grid(
        ["ppo.learning_rate=3e-4,1e-3,0.01", "overrides.push.enabled=true,false", "ppo.net_arch=[64,64],[128]"]
    )
    assert grid == {
        "ppo.learning_rate": [3e-4, 1e-3, 0.01],
        "overrides.push.enabled": [True, False],
        "ppo.net_arch": [[64, 64], [128]],
    }
    assert all(isinstance(v, float) for v in grid["ppo.learning_rate"])  # plain YAML 1.1 reads "3e-4" as a string
    assert parse_grid(["algo=ppo,sac", "steps=1000"]) == {"algo": ["ppo", "sac"], "steps": [1000]}
    for bad in (["ppo.learning_rate"], ["=1,2"], ["steps="], ["steps=1", "steps=2"]):
        with pytest.raises(ValueError, match="grid"):
            parse_grid(bad)


def test_settings_apply_to_train_config():
    config = TrainConfig(overrides={"push": {"interval_s": 2.0}})
    apply_setting(config, "ppo.learning_rate", 1e-5)
    apply_setting(config, "ppo.net_arch", [64, 64])
    apply_setting(config, "overrides.push.enabled", False)
    apply_setting(config, "overrides.episode_length_s", 0.5)
    assert config.ppo.learning_rate == 1e-5 and config.ppo.net_arch == (64, 64)
    assert config.overrides == {"push": {"interval_s": 2.0, "enabled": False}, "episode_length_s": 0.5}
    with pytest.raises(ValueError, match="unknown setting"):
        apply_setting(config, "ppo.learning_rat", 1.0)
    with pytest.raises(ValueError, match="seeds"):
        apply_setting(config, "seed", 3)


def test_trials_and_config_checks(tmp_path):
    config = SweepConfig(
        task="physai/Reach-v0", seeds=[0, 1], grid={"ppo.learning_rate": [3e-4, 1e-3]}, out=str(tmp_path / "s")
    )
    trials = trial_configs(config)
    assert [(t.seed, t.ppo.learning_rate) for t in trials] == [(0, 3e-4), (0, 1e-3), (1, 3e-4), (1, 1e-3)]
    assert [Path(t.out).name for t in trials] == ["trial_000", "trial_001", "trial_002", "trial_003"]
    assert all(t.sim_threads == config.cpus_per_trial for t in trials)
    check_config(config)
    assert SweepConfig(name="x").folder == Path("runs/sweep_x").resolve()
    assert SweepConfig(metric="fall_rate").resolved_mode == "min" and config.resolved_mode == "max"
    cases = [
        ({"task": "physai/Nope-v0"}, ValueError, "task"),
        ({"grid": {"ppo.bogus": [1]}}, ValueError, "unknown setting"),
        ({"grid": {"overrides.no_such_key": [1]}}, Exception, "no_such_key"),
        ({"eval_overrides": {"no_such_key": 1}}, Exception, "no_such_key"),
        ({"grid": {"steps": [1, 1]}}, ValueError, "twice"),
        ({"metric": "reward"}, ValueError, "metric"),
    ]
    for change, error, match in cases:
        with pytest.raises(error, match=match):
            check_config(SweepConfig(**{**vars(config), **change}))
    (tmp_path / "s" / "trial_000").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        check_config(config)


def test_two_trial_reach_sweep_on_loopback_ray(tmp_path):
    ray = pytest.importorskip("ray")
    config = SweepConfig(
        task="physai/Reach-v0",
        seeds=[0, 1],
        steps=512,
        n_envs=4,
        settings={"ppo.n_steps": 64, "ppo.batch_size": 64, "ppo.net_arch": [16], "checkpoint_every": 10**9},
        eval_episodes=1,
        eval_overrides={"episode_length_s": 0.5},
        metric="mean_return",
        name="tiny",
        out=str(tmp_path / "sweep_tiny"),
        num_cpus=2,
        verbose=0,
    )
    handler = signal.getsignal(signal.SIGINT)
    result = run_sweep(config)
    assert not ray.is_initialized()  # the sweep's local Ray is shut down
    assert signal.getsignal(signal.SIGINT) is handler  # and Ray Tune's SIGINT handler is gone
    assert result.ray_address.startswith("127.0.0.1:")  # GCS on loopback
    assert not result.errors and len(result.rows) == 2
    returns = [row["mean_return"] for row in result.rows]
    assert returns == sorted(returns, reverse=True) and all(math.isfinite(r) for r in returns)
    assert [row["rank"] for row in result.rows] == [1, 2]
    assert sorted(row["seed"] for row in result.rows) == [0, 1]
    assert sorted(row["trial"] for row in result.rows) == ["trial_000", "trial_001"]
    for row in result.rows:
        assert row["node_ip"] == "127.0.0.1"  # the trial's Ray worker sees a loopback node
        assert row["steps"] >= 512 and row["device"] == "cpu"
        run_dir = Path(row["run_dir"])
        assert run_dir == tmp_path / "sweep_tiny" / row["trial"]
        assert Path(row["policy"]) == run_dir / "policy.onnx" and Path(row["policy"]).is_file()
        assert json.loads((run_dir / "eval.json").read_text())["episodes"] == 1
    assert result.best is result.rows[0]
    with result.csv_path.open() as f:
        table = list(csv.DictReader(f))
    assert [r["trial"] for r in table] == [row["trial"] for row in result.rows]
    data = json.loads(result.json_path.read_text())
    assert data["metric"] == "mean_return" and data["mode"] == "max" and data["rows"] == result.rows
    assert (tmp_path / "sweep_tiny" / "tune").is_dir()  # Tune's own records stay inside the sweep folder
    assert "trial_000" in result.table() and "mean_return" in result.table()
    with pytest.raises(FileExistsError):
        run_sweep(config)  # a sweep folder is not reused


def test_failed_trials_are_reported(tmp_path):
    pytest.importorskip("ray")
    config = SweepConfig(
        task="physai/Reach-v0",
        seeds=[3],
        steps=64,
        n_envs=2,
        settings={"ppo.n_steps": 32, "ppo.batch_size": 64, "ppo.net_arch": [8]},
        eval_episodes=1,
        eval_overrides={"episode_length_s": 0.2},
        metric="lin_vel_error_m_s",  # Reach has no velocity command: the trial cannot be ranked
        out=str(tmp_path / "sweep_fail"),
        num_cpus=1,
        verbose=0,
    )
    with pytest.raises(RuntimeError, match=r"(?s)every trial of the sweep failed.*lin_vel_error_m_s is None"):
        run_sweep(config)
    data = json.loads((tmp_path / "sweep_fail" / "results.json").read_text())
    assert data["rows"] == [] and [e["trial"] for e in data["errors"]] == ["trial_000"]
    assert data["mode"] == "min"
