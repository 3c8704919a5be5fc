"""`physai sim2sim`: the same policy, seeds and pushes in the Gymnasium env and through the ROS 2 loop in lockstep.

Per episode: the env runs the policy (onnxruntime, deterministic) with noise-free settings (no domain
randomization, sensor noise or reset noise; the task's push schedule stays on) and logs its pushes; then the
sim bringup runs in lockstep with the same policy file, the same pushes at the same sim times and no soft
start, records every topic, and the episode's rewards are recomputed from the recording with the task's own
reward function. Metrics are reported side by side with their differences. Floating-base tasks.

Walk-v0 runs a scripted command timeline (`commands`, default sim_envs/commands/walk_path.yaml) in both: the
env replaces its random commands with it, and the ROS loop gets it from teleop_node (teleop:=script:FILE,
on sim time). Besides return and falls it compares the walking figures of physai.record.walk_metrics (linear and
yaw-rate tracking error, drift while standing) from the env's step info and from the recorded /odom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from physai.paths import scratch_dir

NOISE_FREE: dict[str, Any] = {
    "reset_joint_noise_rad": 0.0,
    "randomization": {
        name: {"enabled": False}
        for name in (
            "ground_friction",
            "link_mass_scale",
            "kp_scale",
            "kd_scale",
            "effort_scale",
            "action_latency",
            "encoder_bias_rad",
            "sensor_noise",
        )
    },
}
"""Task overrides that make an env episode reproducible by the ROS loop."""
ROS_EPISODE_LIMIT_S = 120.0
"""Wall time one lockstep episode of the ROS loop may take, start-up included (s)."""


@dataclass
class Sim2SimReport:
    """Env vs ROS loop, per metric and per episode."""

    policy: str
    task: str
    episodes: int
    seed: int
    env: dict[str, float] = field(default_factory=dict)
    ros: dict[str, float] = field(default_factory=dict)
    env_returns: list[float] = field(default_factory=list)
    ros_returns: list[float] = field(default_factory=list)

    def table(self) -> str:
        """Metric | env | ROS | difference."""
        lines = [f"sim2sim {self.policy} on {self.task}: {self.episodes} episodes from seed {self.seed}"]
        lines.append(f"{'metric':<22}{'env':>12}{'ros':>12}{'diff':>12}")
        for key, value in self.env.items():
            other = self.ros[key]
            lines.append(f"{key:<22}{value:>12.4f}{other:>12.4f}{other - value:>12.4f}")
        return "\n".join(lines)

    def relative_difference(self, metric: str = "mean_return") -> float:
        """|ros − env| / |env| of one metric."""
        return abs(self.ros[metric] - self.env[metric]) / max(abs(self.env[metric]), 1e-9)


def run(
    policy: str | Path,
    task: str = "physai/Balance-v0",
    *,
    episodes: int = 10,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    work_dir: str | Path | None = None,
    commands: str | Path | None = None,
    task_config: str | None = None,
) -> Sim2SimReport:
    """Compare `episodes` episodes (seeds seed, seed+1, …) of `policy` in the env and through ROS.

    `commands`: Walk-v0's command timeline (default: sim_envs/commands/walk_path.yaml); other tasks have none.
    """
    import gymnasium as gym

    import physai.envs  # noqa: F401 (registers the ids)
    from physai.envs.config import merge_overrides
    from physai.policy.inference import OnnxPolicy

    onnx = OnnxPolicy(policy)
    merged = merge_overrides(NOISE_FREE, overrides or {})
    extra = {"config": task_config} if task_config else {}
    env = gym.make(task, robot=onnx.contract.robot, overrides=merged, **extra).unwrapped
    if not env.robot_spec.floating_base:
        raise ValueError(f"sim2sim compares floating-base tasks; {task} runs {env.robot_spec.name}")
    walking = hasattr(env.task, "command_timeline")
    script = None
    if walking:
        from physai.control.teleop import CommandTimeline
        from physai.paths import data_root

        script = Path(commands) if commands else data_root() / "sim_envs" / "commands" / "walk_path.yaml"
        env.task.command_timeline = CommandTimeline.load(script)
    elif commands:
        raise ValueError(f"commands: {task} takes no velocity commands (physai/Walk-v0 does)")
    folder = Path(work_dir) if work_dir else scratch_dir("sim2sim-")
    report = Sim2SimReport(str(policy), task, episodes, seed)
    env_fell, ros_fell, env_len, ros_len = [], [], [], []
    env_walk, ros_walk = [], []
    for i in range(episodes):
        ret, fell, steps, pushes, walk_log = _env_episode(env, onnx, seed + i)
        report.env_returns.append(ret)
        env_fell.append(fell)
        env_len.append(steps)
        env_walk.append(walk_log)
        bag = _ros_episode(policy, env, pushes, steps, folder / f"episode_{i:02d}", script)
        if walking:
            ret, fell, steps, walk_log = _ros_walk(env, bag, steps)
            ros_walk.append(walk_log)
        else:
            ret, fell, steps = _ros_return(env, bag, steps)
        report.ros_returns.append(ret)
        ros_fell.append(fell)
        ros_len.append(steps)
    dt = env.contract.control_dt_s
    for target, returns, falls, lengths in (
        (report.env, report.env_returns, env_fell, env_len),
        (report.ros, report.ros_returns, ros_fell, ros_len),
    ):
        target["mean_return"] = float(np.mean(returns))
        target["fall_rate"] = float(np.mean(falls))
        target["mean_episode_seconds"] = float(np.mean(lengths) * dt)
    if walking:
        from physai.record.walk_metrics import walk_metrics

        for target, logs in ((report.env, env_walk), (report.ros, ros_walk)):
            figures = walk_metrics(logs, env.contract.gait_frequency_hz)
            target["lin_vel_error_m_s"] = figures.lin_vel_error_m_s
            target["yaw_rate_error_rad_s"] = figures.yaw_rate_error_rad_s
            target["stand_drift_m_s"] = figures.stand_drift_m_s
            del target["mean_return"]  # the walk rewards need the feet, which the recording does not hold
    return report


def _env_episode(env: Any, onnx: Any, seed: int) -> tuple[float, bool, int, list[list[float]], Any]:
    """(return, fell, steps, pushes [[t, dvx, dvy], ...], WalkLog or None) of one deterministic env episode."""
    from physai.record.walk_metrics import WalkLog

    obs, _ = env.reset(seed=seed)
    total, steps, fell = 0.0, 0, False
    log = WalkLog.empty(env.contract.control_dt_s)
    while True:
        obs, reward, terminated, truncated, info = env.step(onnx(obs))
        total += reward
        steps += 1
        if "cmd_vx" in info:
            log.add(info)
        if terminated or truncated:
            fell = bool(info.get("fell", terminated))
            break
    pushes = [[t, dvx, dvy] for world, t, dvx, dvy in env.task.pushes.log if world == 0]
    return total, fell, steps, pushes, log if log.command else None


def _ros_episode(
    policy: str | Path, env: Any, pushes: list[list[float]], steps: int, folder: Path, script: Path | None = None
) -> Path:
    """Run the lockstep bringup for `steps` control periods with the env's pushes (and script); return the bag."""
    from physai.bringup.launcher import launch

    bag = folder / "bag"
    args = {
        "robot": env.robot_spec.name,
        "policy": str(policy),
        "mode": "lockstep",
        "max_sim_time_s": str(steps * env.contract.control_dt_s + 1e-6),
        "push_schedule": json.dumps(pushes),
        "soft_start_s": "0",
        "record": str(bag),
        **({"teleop": f"script:{script}"} if script else {}),
    }
    result = launch("sim", args, duration_s=ROS_EPISODE_LIMIT_S, run_dir=folder / "run")
    if result.exit_code:
        raise RuntimeError(f"ROS loop failed: {result.failed}")
    if result.timed_out:
        raise RuntimeError(
            f"ROS loop did not reach max_sim_time_s {args['max_sim_time_s']} s within {ROS_EPISODE_LIMIT_S} s of "
            f"wall time; node logs in {result.run_dir}"
        )
    return bag


def _missing(topic: str, bag: Path, stamp_ns: int) -> RuntimeError:
    """The error of a recording without `topic`'s message at sim time `stamp_ns` (a lockstep bag holds every step)."""
    return RuntimeError(f"{bag}: no {topic} message at sim time {stamp_ns / 1e9:.3f} s; expected one every step")


def _ros_return(env: Any, bag: Path, max_steps: int) -> tuple[float, bool, int]:
    """Rewards of the recorded loop, one per answered command, with the task's reward function."""
    from physai.envs.balance import balance_reward_terms
    from physai.record import read_bag

    contract, task = env.contract, env.task
    names = list(contract.joint_names)
    default, scale = np.asarray(contract.default_pos), np.asarray(contract.action.scale)
    states: dict[int, dict[str, Any]] = {}
    commands: dict[int, np.ndarray] = {}
    for item in read_bag(bag, topics=["/joint_states", "/odom", "/imu/data", "/joint_commands"]):
        msg = item.message
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        if item.topic == "/joint_commands":
            index = [list(msg.name).index(n) for n in names]
            commands[stamp] = (np.asarray(msg.position)[index] - default) / scale  # the clipped action
            continue
        entry = states.setdefault(stamp, {})
        if item.topic == "/joint_states":
            index = [list(msg.name).index(n) for n in names]
            entry["joint_pos"] = np.asarray(msg.position)[index]
            entry["joint_torque"] = np.asarray(msg.effort)[index]
        elif item.topic == "/odom":
            p, q = msg.pose.pose.position, msg.pose.pose.orientation
            entry["base_pos"], entry["base_quat"] = np.array([p.x, p.y, p.z]), np.array([q.w, q.x, q.y, q.z])
        else:
            q = msg.orientation
            entry["imu_quat"] = np.array([q.w, q.x, q.y, q.z])
    period_ns = round(contract.control_dt_s * 1e9)
    total, last_action, fell, steps = 0.0, np.zeros(contract.action_dim), False, 0
    for k in range(1, max_steps + 1):
        action = commands.get((k - 1) * period_ns)  # the command answering the state at step k−1
        state = states.get(k * period_ns, {})
        if action is None:
            raise _missing("/joint_commands", bag, (k - 1) * period_ns)
        for topic, key in (("/joint_states", "joint_pos"), ("/odom", "base_pos"), ("/imu/data", "imu_quat")):
            if key not in state:
                raise _missing(topic, bag, k * period_ns)
        terms, fallen = balance_reward_terms(
            task.config, _State(**state), action, last_action, task.start_height_m, default, task.spec.effort_limit
        )
        total += float(sum(terms.values()))
        last_action, steps = action, k
        if fallen:
            fell = True
            break
    return total, fell, steps


def _ros_walk(env: Any, bag: Path, max_steps: int) -> tuple[float, bool, int, Any]:
    """(return (nan: the walk rewards need the feet), fell, steps, WalkLog) of the recorded walking loop.

    The log holds the timeline's command at each control step's sim time and the measured velocity of /odom
    (IMU-frame linear velocity, gyro yaw rate: what the env's step info reports); feet are not recorded.
    """
    from physai.record import read_bag
    from physai.record.walk_metrics import WalkLog
    from physai.robot.state import FallRule, tilt_rad

    task, dt = env.task, env.contract.control_dt_s
    period_ns = round(dt * 1e9)
    odom: dict[int, Any] = {}
    for item in read_bag(bag, topics=["/odom"]):
        stamp = item.message.header.stamp.sec * 1_000_000_000 + item.message.header.stamp.nanosec
        odom[stamp] = item.message
    rule = FallRule(task.config.max_tilt_rad, task.config.min_height_fraction)
    log, fell, steps = WalkLog.empty(dt), False, 0
    for k in range(1, max_steps + 1):
        msg = odom.get(k * period_ns)
        if msg is None:
            raise _missing("/odom", bag, k * period_ns)
        p, q, v, w = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist.linear, msg.twist.twist.angular
        command = task.command_timeline.at(k * dt - dt + 1e-9)  # what the env applied before this step's physics
        log.command.append(command)
        log.measured.append(np.array([v.x, v.y, w.z]))
        log.contact.append(np.zeros(2, dtype=bool))
        log.slip_m_s.append(0.0)
        steps = k
        if rule.fallen(tilt_rad(np.array([q.w, q.x, q.y, q.z])), p.z, task.start_height_m):
            fell = True
            break
    return float("nan"), fell, steps, log


@dataclass
class _State:
    joint_pos: np.ndarray
    joint_torque: np.ndarray
    base_pos: np.ndarray
    base_quat: np.ndarray
    imu_quat: np.ndarray
