"""physai.envs: check_env with zero warnings, seeded determinism, reset state, smoke over env × robot, falls, pushes."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import physai.envs
from physai.contract import build_observation
from physai.envs import ENV_IDS, BalanceConfig, TaskConfigError, load_task_config
from physai.envs.config import PushConfig

CASES = [
    ("physai/Balance-v0", "testbed_biped"),
    ("physai/Balance-v0", "unitree_g1"),
    ("physai/Reach-v0", "testbed_arm"),
    ("physai/Walk-v0", "testbed_biped"),
    ("physai/Walk-v0", "unitree_g1"),
]
QUIET = {  # everything off that perturbs the observation or the start
    "reset_joint_noise_rad": 0.0,
    "randomization": {
        "sensor_noise": {"enabled": False},
        "action_latency": {"enabled": False},
        "encoder_bias_rad": {"enabled": False},
    },
}


def rollout(env: gym.Env, seed: int, steps: int = 100) -> tuple[np.ndarray, ...]:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(123)
    out_obs, out_rew, out_done = [obs], [], []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        out_obs.append(obs)
        out_rew.append(reward)
        out_done.append((terminated, truncated))
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(out_obs), np.array(out_rew), np.array(out_done)


def test_ids_registered():
    assert set(ENV_IDS) <= set(gym.registry)
    assert all(gym.registry[i].max_episode_steps is None for i in ENV_IDS)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_zero_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
        sb3_check_env(env)
    assert [str(w.message) for w in caught] == []
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeded_determinism(env_id):
    a, b = gym.make(env_id), gym.make(env_id)
    obs_a, rew_a, done_a = rollout(a, seed=7)
    obs_b, rew_b, done_b = rollout(b, seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    np.testing.assert_array_equal(done_a, done_b)
    obs_c, _, _ = rollout(b, seed=8, steps=5)
    assert not np.array_equal(obs_a[:6], obs_c)


@pytest.mark.parametrize(("env_id", "robot"), CASES)
def test_reset_state(env_id, robot):
    env = gym.make(env_id, robot=robot, overrides=QUIET).unwrapped
    env.reset(seed=0)
    for _ in range(20):
        env.step(env.action_space.sample())  # dirty state must not leak into the next reset
    obs, _ = env.reset(seed=3)
    state = env.task.sim.state()
    assert float(state.time_s[0]) == 0.0
    np.testing.assert_allclose(state.joint_pos[0], env.robot_spec.default_pose, atol=1e-9)
    assert np.isfinite(obs).all() and obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    inputs = env.task.observation_inputs(state, np.array([0]))
    command, zeros = env.task.command[:1], np.zeros(env.contract.n_joints)
    expected = build_observation(inputs, command, zeros, env.contract, clock_s=0.0)[0]
    np.testing.assert_array_equal(obs, expected)
    if env.robot_spec.floating_base:
        first = {f: getattr(state, f)[0] for f in ("joint_pos", "joint_vel", "gyro", "imu_quat", "base_lin_vel")}
        single = type("S", (), first)
        np.testing.assert_array_equal(obs, build_observation(single, command[0], zeros, env.contract, clock_s=0.0))
    else:
        ee = env.mjdata().site("ee").xpos
        np.testing.assert_allclose(inputs.ee_pos[0], ee, atol=1e-12)  # base at the origin, unrotated
        target = env.task.target_m[0]
        assert np.all(target >= env.config.target_low_m) and np.all(target <= env.config.target_high_m)


@pytest.mark.parametrize(("env_id", "robot"), CASES)
def test_smoke_random_steps(env_id, robot):
    env = gym.make(env_id, robot=robot)
    env.reset(seed=0)
    expected_terms = set(env.unwrapped.config.rewards.__dataclass_fields__)
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(reward)
        assert set(info["reward_terms"]) == expected_terms
        assert reward == pytest.approx(sum(info["reward_terms"].values()))
        if env_id == "physai/Reach-v0":
            assert info["distance_m"] >= 0
        if terminated or truncated:
            env.reset()
    contract = env.unwrapped.contract
    assert contract.control_dt_s == 0.02 and contract.physics_dt_s == env.unwrapped.config.physics_dt_s
    assert env.unwrapped.task.decimation == round(0.02 / contract.physics_dt_s)  # 10 at 500 Hz, 4 at 200 Hz


def test_huge_push_terminates():
    env = gym.make("physai/Balance-v0", overrides={"push": {"interval_s": [0.1, 0.1], "velocity_m_s": [4.0, 4.0]}})
    env.reset(seed=1)
    for _ in range(50):  # 1 s: pushed at 0.1 s with 4 m/s
        _, _, terminated, truncated, info = env.step(np.zeros(12, dtype=np.float32))
        if terminated:
            break
    assert terminated and not truncated
    assert info["reward_terms"]["termination"] == env.unwrapped.config.rewards.termination


def test_zero_gains_fall():
    env = gym.make("physai/Balance-v0", overrides={"push": {"enabled": False}})
    env.reset(seed=0)
    samples = env.unwrapped.task.randomizer.samples
    samples.kp_scale[:] = 0.0
    samples.kd_scale[:] = 0.0
    done = [env.step(np.zeros(12, dtype=np.float32))[2] for _ in range(150)]
    assert any(done)


def test_push_schedule():
    overrides = {
        "push": {"interval_s": [0.5, 1.0], "velocity_m_s": [0.1, 0.2]},
        "randomization": QUIET["randomization"],
    }
    env = gym.make("physai/Balance-v0", overrides=overrides).unwrapped
    env.reset(seed=2)
    flags = [env.step(np.zeros(12, dtype=np.float32))[4]["pushed"] for _ in range(150)]  # 3 s
    log = env.task.pushes.log
    assert sum(flags) == len(log)
    times = np.array([t for _, t, _, _ in log])
    assert 3 <= len(times) <= 6
    gaps = np.diff(np.concatenate([[0.0], times]))
    assert np.all(gaps >= 0.5 - 1e-6) and np.all(gaps <= 1.0 + 0.02 + 1e-6)  # applied at the next policy step
    speeds = np.hypot([p[2] for p in log], [p[3] for p in log])
    assert np.all((speeds >= 0.1 - 1e-9) & (speeds <= 0.2 + 1e-9))
    off = gym.make("physai/Balance-v0", overrides={"push": {"enabled": False}}).unwrapped
    off.reset(seed=2)
    for _ in range(150):
        off.step(np.zeros(12, dtype=np.float32))
    assert off.task.pushes.log == []


def test_episode_truncates_at_yaml_length():
    env = gym.make("physai/Reach-v0", overrides={"episode_length_s": 0.1})
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[3] for _ in range(5)]
    assert flags == [False, False, False, False, True]


def test_config_unknown_key_is_named():
    with pytest.raises(TaskConfigError, match=r"randomization\.kp_scal"):
        load_task_config(BalanceConfig, "balance", {"randomization": {"kp_scal": {"enabled": True}}})
    with pytest.raises(TaskConfigError, match=r"push\.interval_s"):
        load_task_config(BalanceConfig, "balance", {"push": {"interval_s": [3.0, 1.0]}})
    cfg = load_task_config(BalanceConfig, "balance")
    assert isinstance(cfg.push, PushConfig) and cfg.episode_length_s == 20.0


def test_randomization_changes_model_and_is_restored():
    env = gym.make("physai/Balance-v0").unwrapped
    batch = env.task.sim.batch
    nominal_mass = env.task.sim.model.body_mass.copy()
    env.reset(seed=0)
    mass_a, friction_a = batch.expanded("body_mass")[0].copy(), batch.expanded("geom_friction")[0, :, 0].copy()
    env.reset(seed=1)
    assert not np.array_equal(mass_a, batch.expanded("body_mass")[0])
    assert not np.array_equal(friction_a, batch.expanded("geom_friction")[0, :, 0])
    np.testing.assert_array_equal(env.task.sim.model.body_mass, nominal_mass)  # the shared model is untouched
    robot_bodies = nominal_mass > 0
    ratio = batch.expanded("body_mass")[0][robot_bodies] / nominal_mass[robot_bodies]
    assert np.all((ratio >= 0.9) & (ratio <= 1.1))
    plain = gym.make(
        "physai/Balance-v0",
        overrides={"randomization": {"link_mass_scale": {"enabled": False}, "ground_friction": {"enabled": False}}},
    ).unwrapped
    plain.reset(seed=0)
    assert plain.task.sim.batch.expanded("body_mass") is None  # every world runs the nominal model
    assert physai.envs.BalanceEnv is type(env)


def test_walk_commands_resample_within_the_ranges():
    overrides = {"commands": {"resample_interval_s": 0.1, "standing_fraction": 0.25}, "push": {"enabled": False}}
    env = gym.make("physai/Walk-v0", overrides=overrides).unwrapped
    env.reset(seed=0)
    c = env.config.commands
    seen = []
    for _ in range(400):  # 8 s, a new command every 0.1 s
        _, _, terminated, truncated, info = env.step(np.zeros(12, dtype=np.float32))
        seen.append((info["cmd_vx"], info["cmd_vy"], info["cmd_yaw_rate"]))
        if terminated or truncated:
            env.reset()
    seen = np.array(seen)
    changes = np.any(seen[1:] != seen[:-1], axis=1).sum()
    assert 60 <= changes <= 80  # ~one per 5 steps
    zero = (seen == 0).all(axis=1)
    assert 0.1 < zero.mean() < 0.45  # the standing fraction (of draws)
    moving = seen[~zero]
    for i, (lo, hi) in enumerate((c.vx_m_s, c.vy_m_s, c.yaw_rate_rad_s)):
        assert lo <= moving[:, i].min() and moving[:, i].max() <= hi
        assert moving[:, i].max() - moving[:, i].min() > 0.6 * (hi - lo)  # the whole range is drawn
    assert env.contract.command_ranges == (c.vx_m_s, c.vy_m_s, c.yaw_rate_rad_s)
    assert env.contract.gait_frequency_hz == env.config.gait.frequency_hz and env.task.decimation == 4


def test_walk_timeline_replaces_the_random_commands(tmp_path):
    from physai.control.teleop import CommandTimeline

    env = gym.make("physai/Walk-v0", overrides={"push": {"enabled": False}}).unwrapped
    env.task.command_timeline = CommandTimeline.from_entries([{"t": 0.0}, {"t": 0.5, "vx": 0.4, "yaw_rate": -0.5}])
    env.reset(seed=0)
    commands = [env.step(np.zeros(12, dtype=np.float32))[4] for _ in range(50)]
    assert (commands[10]["cmd_vx"], commands[10]["cmd_yaw_rate"]) == (0.0, 0.0)
    assert (commands[40]["cmd_vx"], commands[40]["cmd_yaw_rate"]) == (0.4, -0.5)


def test_walk_gait_reward_follows_the_clock():
    """Both feet down: contact_match is two feet's worth in double stance, one foot's while the clock says one
    swings, and that happens within a period."""
    env = gym.make("physai/Walk-v0", overrides={"push": {"enabled": False}, **QUIET}).unwrapped
    env.reset(seed=0)
    w = env.config.rewards.contact_match
    period_steps = round(1 / env.config.gait.frequency_hz / 0.02)
    got = [env.step(np.zeros(12, dtype=np.float32))[4]["reward_terms"]["contact_match"] for _ in range(period_steps)]
    assert set(np.round(got, 9)) <= {round(w, 9), round(2 * w, 9)}
    assert round(w, 9) in set(np.round(got, 9))  # standing on both feet misses the swing half of the time


def test_encoder_bias_shifts_the_observed_joint_positions():
    quiet = {**QUIET, "reset_joint_noise_rad": 0.0, "push": {"enabled": False}}
    biased = physai.envs.config.merge_overrides(quiet, {"randomization": {"encoder_bias_rad": {"enabled": True}}})
    a = gym.make("physai/Walk-v0", overrides=quiet).unwrapped
    b = gym.make("physai/Walk-v0", overrides=biased).unwrapped
    obs_a, _ = a.reset(seed=4)
    obs_b, _ = b.reset(seed=4)
    jp = a.contract.observation_slices()["joint_pos_rel"]
    bias = b.task.randomizer.samples.encoder_bias_rad[0]
    assert np.abs(bias).max() <= 0.02 and np.abs(bias).min() > 0
    np.testing.assert_allclose(obs_b[jp] - obs_a[jp], bias, atol=1e-6)


def test_walk_driving_the_g1_legs_only_holds_the_upper_body():
    legs = {"driven_joints": ["hip", "knee", "ankle"], "push": {"enabled": False}}
    env = gym.make("physai/Walk-v0", robot="unitree_g1", overrides=legs).unwrapped
    contract = env.contract
    assert env.action_space.shape == (12,) and len(contract.held_joints) == 17
    assert contract.obs_dim == 3 + 3 + 3 + 4 + 12 + 12 + 12
    contract.check(env.robot_spec)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        env.step(rng.uniform(-1, 1, 12).astype(np.float32))
    state = env.task.sim.state()
    spec = env.robot_spec
    for joint in contract.held_joints:
        k = spec.joint_names.index(joint.name)
        assert abs(state.joint_pos[0, k] - joint.position) < 0.1, joint.name  # held while the legs move
    moved = [
        abs(state.joint_pos[0, spec.joint_names.index(n)] - d)
        for n, d in zip(contract.joint_names, contract.default_pos, strict=True)
    ]
    assert max(moved) > 0.05  # the random actions did move the legs
