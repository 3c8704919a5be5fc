"""BatchVecEnv (one VecTask, N worlds) gives the same transitions as SB3's DummyVecEnv over N Gymnasium envs."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

import physai.envs  # noqa: F401  (registers the ids)
from physai.envs import BalanceTask, ReachTask, WalkTask
from physai.rl.vec_env import BatchVecEnv

FAST = {"episode_length_s": 0.6, "push": {"interval_s": [0.1, 0.3], "velocity_m_s": [0.3, 1.5]}}


@pytest.mark.parametrize(
    ("env_id", "task_type", "overrides"),
    [
        ("physai/Balance-v0", BalanceTask, FAST),
        ("physai/Reach-v0", ReachTask, {"episode_length_s": 0.3}),
        ("physai/Walk-v0", WalkTask, {**FAST, "commands": {"resample_interval_s": 0.2, "standing_fraction": 0.3}}),
    ],
)
def test_batch_vec_env_matches_dummy_vec_env(env_id, task_type, overrides):
    n = 3
    dummy = DummyVecEnv([lambda: gym.make(env_id, overrides=overrides) for _ in range(n)])
    batch = BatchVecEnv(task_type(num_worlds=n, overrides=overrides, nthread=2))
    dummy.seed(42)
    batch.seed(42)
    obs_d, obs_b = dummy.reset(), batch.reset()
    np.testing.assert_array_equal(obs_d, obs_b)
    rng = np.random.default_rng(0)
    resets = 0
    for _ in range(60):  # several episodes per world, with pushes, latency, noise and auto-resets
        actions = rng.uniform(-1, 1, size=(n, batch.action_space.shape[0])).astype(np.float32)
        obs_d, rew_d, done_d, info_d = dummy.step(actions)
        obs_b, rew_b, done_b, info_b = batch.step(actions)
        np.testing.assert_array_equal(obs_d, obs_b)
        np.testing.assert_array_equal(rew_d, rew_b)
        np.testing.assert_array_equal(done_d, done_b)
        for a, b in zip(info_d, info_b, strict=True):
            assert a["reward_terms"] == b["reward_terms"]
            assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
            if "terminal_observation" in a:
                np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
                resets += 1
    assert resets >= n  # auto-reset was exercised
    assert rew_b.dtype == np.float32 and obs_b.dtype == np.float32


def test_batch_vec_env_runs_ppo_rollouts():
    from stable_baselines3 import PPO

    env = BatchVecEnv(BalanceTask(num_worlds=4, nthread=2))
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=32, n_epochs=1, policy_kwargs={"net_arch": [32]}, seed=0)
    model.learn(64)
    assert model.num_timesteps == 64
