"""Simulator and BatchSim: the PD actuator model, determinism, batch equality, standing, robustness."""

import mujoco
import numpy as np
import pytest

from physai.robot import RobotSpec, available_robots
from physai.robot.command import JointCommand
from physai.robot.state import tilt_rad
from physai.sim import BatchSim, Simulator


def random_command(spec: RobotSpec, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> JointCommand:
    shape = (*batch, spec.n_joints)
    return JointCommand(
        q=rng.uniform(spec.lower, spec.upper, size=shape),
        dq=rng.uniform(-1, 1, size=shape),
        kp=spec.kp * rng.uniform(0.5, 1.5, size=shape),
        kd=spec.kd * rng.uniform(0.5, 1.5, size=shape),
        tau_ff=rng.uniform(-0.2, 0.2, size=shape) * spec.effort_limit,
    )


def rollout(sim: Simulator, seed: int, ticks: int = 40, decimation: int = 10) -> np.ndarray:
    sim.reset(seed=seed, noise=0.1)
    rng = np.random.default_rng(seed)
    trajectory = []
    for _ in range(ticks):
        sim.apply(random_command(sim.spec, rng))
        sim.step(decimation)
        trajectory.append(sim.data.qpos.copy())
    return np.array(trajectory)


@pytest.fixture(scope="module")
def g1() -> Simulator:
    return Simulator("unitree_g1")


def test_actuator_implements_mit_pd_law_with_clamp(g1):
    spec = g1.spec
    g1.reset(seed=1, noise=0.2)
    g1.step(5)  # non-zero velocities
    rng = np.random.default_rng(2)
    cmd = random_command(spec, rng)
    cmd = JointCommand(cmd.q, cmd.dq, cmd.kp, cmd.kd, cmd.tau_ff * 10)  # some will saturate
    g1.apply(cmd)
    mujoco.mj_forward(g1.model, g1.data)
    state = g1.state()
    expected = cmd.kp * (cmd.q - state.joint_pos) + cmd.kd * (cmd.dq - state.joint_vel) + cmd.tau_ff
    expected = np.clip(expected, -spec.effort_limit, spec.effort_limit)
    np.testing.assert_allclose(state.joint_torque, expected, rtol=1e-9, atol=1e-9)
    assert np.any(np.abs(expected) == spec.effort_limit), "test should exercise the clamp"


def test_same_seed_gives_identical_trajectory(g1):
    a = rollout(g1, seed=3)
    b = rollout(g1, seed=3)
    c = rollout(g1, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_reset_restores_default_pose_at_rest():
    sim = Simulator("testbed_biped")
    sim.step(200)
    state = sim.reset(seed=0, noise=0.0)
    np.testing.assert_array_equal(state.joint_pos, sim.spec.default_pose)
    assert np.all(state.joint_vel == 0)
    assert state.base_pos[2] == pytest.approx(sim.spec.base_height_m)
    assert state.time_s == 0
    noisy = sim.reset(seed=0, noise=0.1)
    assert 0 < np.abs(noisy.joint_pos - sim.spec.default_pose).max() <= 0.1 + 1e-12


@pytest.mark.parametrize("robot", ["unitree_g1", "testbed_biped", "testbed_arm"])
def test_batchsim_equals_simulator(robot):
    nsim, seeds = 3, [11, 12, 13]
    batch = BatchSim(robot, nsim, nthread=2)
    sims = [Simulator(batch.spec) for _ in range(nsim)]
    batch.reset(seeds, noise=0.1)
    for sim, seed in zip(sims, seeds, strict=True):
        sim.reset(seed, noise=0.1)
    rng = np.random.default_rng(0)
    for _ in range(15):
        cmd = random_command(batch.spec, rng, (nsim,))
        batch.apply(cmd)
        batch.step(10)
        for i, sim in enumerate(sims):
            sim.apply(JointCommand(cmd.q[i], cmd.dq[i], cmd.kp[i], cmd.kd[i], cmd.tau_ff[i]))
            sim.step(10)
    got = batch.state()
    for i, sim in enumerate(sims):
        want = sim.state()
        for field in ("joint_pos", "joint_vel", "joint_torque", "base_quat", "gyro", "accel", "foot_contact", "time_s"):
            np.testing.assert_array_equal(getattr(got, field)[i], getattr(want, field), err_msg=f"world {i} {field}")


def test_batch_reset_of_some_worlds_leaves_others_running():
    batch = BatchSim("testbed_biped", 2, nthread=1)
    batch.step(50)
    before = batch.state().joint_pos[1].copy()
    batch.reset(seeds=[5], ids=[0], noise=0.0)
    state = batch.state()
    np.testing.assert_array_equal(state.joint_pos[0], batch.spec.default_pose)
    np.testing.assert_array_equal(state.joint_pos[1], before)
    assert state.time_s[0] == 0 and state.time_s[1] > 0


@pytest.mark.parametrize("robot", ["unitree_g1", "unitree_h1"])
def test_every_humanoid_holds_its_default_pose_upright_on_pd_alone_for_5s(robot):
    sim = Simulator(robot)  # H1 at its old kp 300 sank at the knees and fell backwards after 2.5 s
    sim.reset()
    start = sim.state()
    for _ in range(50):
        sim.step(50)
        state = sim.state()
        assert tilt_rad(state.base_quat) < 0.2, state.time_s
    assert state.time_s == pytest.approx(5.0)
    assert state.base_pos[2] > 0.95 * start.base_pos[2]
    assert state.foot_contact.all()
    assert np.abs(state.joint_pos - sim.spec.default_pose).max() < 0.1
    assert state.accel[2] == pytest.approx(9.81, abs=0.5)  # specific force of a standing IMU


@pytest.mark.parametrize("robot", available_robots())
@pytest.mark.parametrize("scene", ["flat", "rough"])
def test_every_robot_survives_1000_random_command_steps(robot, scene):
    sim = Simulator(robot, scene)
    sim.reset(seed=0, noise=0.05)
    rng = np.random.default_rng(0)
    for _ in range(100):
        sim.apply(random_command(sim.spec, rng))
        sim.step(10)
        state = sim.state()
        assert np.all(np.abs(state.joint_torque) <= sim.spec.effort_limit + 1e-9)
    assert state.time_s == pytest.approx(2.0)
    for field in ("joint_pos", "joint_vel", "joint_torque", "base_pos", "base_quat", "gyro", "accel"):
        assert np.all(np.isfinite(getattr(state, field))), field


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("q", np.full(12, np.nan), "JointCommand.q contains NaN"),
        ("tau_ff", np.full(12, np.inf), "JointCommand.tau_ff contains NaN or Inf"),
        ("kp", np.ones(5), r"JointCommand.kp has shape \(5,\); expected \(12,\)"),
        ("kd", -np.ones(12), "negative gain"),
    ],
)
def test_bad_command_is_refused_before_reaching_mujoco(field, value, message):
    sim = Simulator("testbed_biped")
    ctrl_before = sim.data.ctrl.copy()
    good = JointCommand.hold(sim.spec)
    bad = JointCommand(**{**good.__dict__, field: value})
    with pytest.raises(ValueError, match=message):
        sim.apply(bad)
    np.testing.assert_array_equal(sim.data.ctrl, ctrl_before)


def test_damping_command_brakes_the_joints():
    sim = Simulator("testbed_arm")
    sim.apply(JointCommand.hold(sim.spec, sim.spec.upper * 0.5))
    sim.step(100)
    sim.apply(JointCommand.damping(sim.spec, kd=2.0))
    sim.step(500)
    state = sim.state()
    assert np.abs(state.joint_vel).max() < 0.5
    mujoco.mj_forward(sim.model, sim.data)
    np.testing.assert_allclose(
        sim.state().joint_torque,
        np.clip(-2.0 * sim.state().joint_vel, -sim.spec.effort_limit, sim.spec.effort_limit),
        atol=1e-9,
    )


def test_imu_reads_gravity_and_tilt_when_tipped():
    sim = Simulator("testbed_biped")
    qpos = sim.data.qpos.copy()
    angle = 0.3
    qpos[3:7] = [np.cos(angle / 2), np.sin(angle / 2), 0, 0]  # roll by 0.3 rad
    sim.set_state(qpos, np.zeros(sim.model.nv))
    state = sim.state()
    assert tilt_rad(state.base_quat) == pytest.approx(angle)
    np.testing.assert_allclose(state.imu_quat, state.base_quat, atol=1e-6)  # IMU site aligned with torso
