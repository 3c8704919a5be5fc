"""`physai bench train`: PPO throughput of physai training against stock SB3, rollout only and the physics limit.

Figures (medians over repeats, the variants alternating so machine drift hits all of them):
  batched_env_steps_per_s   PPO.learn env-steps/s on BatchVecEnv (one BatchSim, MuJoCo threads): physai training
  dummy_env_steps_per_s     PPO.learn env-steps/s on DummyVecEnv over the same Gymnasium env: stock SB3
  rollout_env_steps_per_s   the same BatchVecEnv stepped with zero actions, no learning
  physics_limit_env_steps_per_s  threads × raw mj_step/s of one MjData of the task's model ÷ decimation
  inference_us              per shipped policy: single-sample latency, onnxruntime (1 thread) and torch
                            (1 thread), median and p99 (µs)
Ratios:
  batched_vs_dummy          batched / dummy            (target ≥ 5)
  training_vs_rollout       batched / rollout          (target ≥ 0.6: learning costs ≤ 40 %)
  rollout_vs_physics        rollout / physics limit    (target ≥ 0.7: the task's Python costs ≤ 30 %)
The learners use the hyperparameters `physai train` uses (PPOSettings), on the CPU.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from physai.bench.report import median_rates, write_report
from physai.paths import data_root
from physai.rl.train import TrainConfig, build_model, make_vec_env


def run(
    task: str = "physai/Balance-v0",
    n_envs: int = 16,
    steps: int = 8192,
    repeats: int = 3,
    json_path: str | Path | None = None,
    robot: str | None = None,
) -> dict:
    """Measure and report; each timed PPO.learn call (and rollout) does `steps` env steps."""
    torch.set_num_threads(1)
    config = TrainConfig(
        task=task, robot=robot, n_envs=n_envs, device="cpu", out=str(Path("/tmp") / "physai-bench-train")
    )
    config.ppo.n_steps = max(8, min(config.ppo.n_steps, steps // n_envs))
    vec_env = make_vec_env(config)
    robot = vec_env.task.spec.name
    batched = build_model(config, vec_env, "cpu")
    dummy = build_model(config, DummyVecEnv([lambda: gym.make(task, robot=robot) for _ in range(n_envs)]), "cpu")
    for model in (batched, dummy):
        model.tensorboard_log = None

    def learner(model: PPO) -> Any:
        def learn() -> int:
            model.learn(steps, reset_num_timesteps=False)
            return steps

        return learn

    rollout_env = make_vec_env(config)
    rollout_env.reset()
    zeros = np.zeros((n_envs, rollout_env.action_space.shape[0]), dtype=np.float32)

    def rollout() -> int:
        for _ in range(steps // n_envs):
            rollout_env.step(zeros)
        return steps // n_envs * n_envs

    runs = {"batched": learner(batched), "dummy": learner(dummy), "rollout": rollout}
    rates = median_rates(runs, repeats)
    physics = physics_limit(vec_env, config.sim_threads or os.cpu_count() or 1)
    figures: dict[str, Any] = {
        "batched_env_steps_per_s": rates["batched"],
        "dummy_env_steps_per_s": rates["dummy"],
        "rollout_env_steps_per_s": rates["rollout"],
        "physics_limit_env_steps_per_s": physics,
        "inference_us": policy_latencies(),
    }
    ratios = {
        "batched_vs_dummy": rates["batched"] / rates["dummy"],
        "training_vs_rollout": rates["batched"] / rates["rollout"],
        "rollout_vs_physics": rates["rollout"] / physics,
    }
    meta = {
        "task": task,
        "robot": robot,
        "n_envs": n_envs,
        "steps": steps,
        "repeats": repeats,
        "n_steps": config.ppo.n_steps,
        "decimation": vec_env.task.decimation,
    }
    return write_report("train", figures, ratios, json_path, **meta)


def physics_limit(vec_env: Any, threads: int, seconds: float = 1.0) -> float:
    """Threads × raw mj_step/s of one MjData of the task's model (holding the default pose) ÷ decimation."""
    import mujoco

    model = vec_env.task.sim.model
    data = vec_env.task.sim.world_data(0)
    for _ in range(200):
        mujoco.mj_step(model, data)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for _ in range(100):
            mujoco.mj_step(model, data)
        count += 100
    per_thread = count / (time.perf_counter() - began)
    return threads * per_thread / vec_env.task.decimation


def policy_latencies(samples: int = 2000) -> dict[str, dict[str, float]]:
    """Single-observation latency of onnxruntime vs torch (µs, median/p99) of every shipped policy with a model.zip."""
    from physai.policy.inference import OnnxPolicy

    out: dict[str, dict[str, float]] = {}
    for onnx_path in sorted((data_root() / "policies").glob("*/policy.onnx")):
        model_zip = onnx_path.with_name("model.zip")
        policy = OnnxPolicy(onnx_path)
        obs = np.zeros((1, policy.obs_dim), dtype=np.float32)
        figures = {"onnxruntime": _latency(lambda policy=policy, obs=obs: policy(obs), samples)}
        if model_zip.is_file():
            actor = PPO.load(model_zip, device="cpu").policy
            tensor = torch.as_tensor(obs)

            def forward(actor: Any = actor, tensor: torch.Tensor = tensor) -> Any:
                with torch.no_grad():
                    return actor.action_net(actor.mlp_extractor.forward_actor(actor.extract_features(tensor)))

            figures["torch"] = _latency(forward, samples)
        out[onnx_path.parent.name] = {f"{k}_{stat}": v[stat] for k, v in figures.items() for stat in v}
    return out


def _latency(fn: Any, samples: int) -> dict[str, float]:
    for _ in range(50):
        fn()
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1000.0)
    return {"median_us": statistics.median(times), "p99_us": float(np.percentile(times, 99))}
