"""Evaluate a policy file in its Gymnasium env: seeded episodes, deterministic actions, onnxruntime inference.

    report = evaluate("policies/balance/policy.onnx", "physai/Balance-v0", episodes=20, seed=0, video="eval.mp4")
    print(report.table()); Path("eval.json").write_text(report.to_json())

The env is made for the robot in the file's contract, and the file's contract must equal the env's
(`PolicyContract.to_dict`): a policy is never run on an observation layout it was not trained on. Actions go
to the env unclipped, as at runtime: `action_to_targets` applies the contract's clip in both places.
No torch here.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from physai.contract import ContractMismatch, PolicyContract
from physai.control.teleop import CommandTimeline
from physai.policy.inference import OnnxPolicy
from physai.record.walk_metrics import WalkLog, plot_walk, walk_metrics

SUCCESS_TOLERANCE_M = 0.02
"""Reach: an episode succeeds when the final end-effector distance is ≤ this (m)."""
VIDEO_FPS_TARGET = 30.0
"""Video frames are taken every k policy steps, k chosen so the frame rate is ≤ this (25 fps at 50 Hz)."""


@dataclass(frozen=True)
class EvalReport:
    """Results of `evaluate`. Per-episode lists are in episode order (seeds seed, seed+1, …)."""

    policy: str
    """The policy file evaluated."""
    task: str
    """Gym env id."""
    robot: str
    """Robot the env simulated (= contract.robot)."""
    episodes: int
    """Number of episodes run."""
    seed: int
    """Seed of episode 0; episode i is reset with seed + i."""
    mean_return: float
    """Mean undiscounted episode return."""
    std_return: float
    """Population standard deviation of the episode returns."""
    mean_episode_seconds: float
    """Mean episode duration: steps × contract.control_dt_s (s)."""
    fall_rate: float
    """Fraction of episodes that ended in a fall (0 for fixed-base robots unless the env reports `fell`)."""
    episode_returns: list[float]
    """Return of each episode."""
    episode_steps: list[int]
    """Policy steps of each episode."""
    final_distance_m: list[float] | None = None
    """Reach: end-effector-to-target distance at each episode's last step (m); None for other tasks."""
    success_rate: float | None = None
    """Reach: fraction of episodes with final distance ≤ `success_tolerance_m`; None for other tasks."""
    success_tolerance_m: float | None = None
    """Reach: the tolerance used for success_rate (m)."""
    lin_vel_error_m_s: float | None = None
    """Walk: mean linear-velocity tracking error of the stride-average velocity (m/s; physai.record.walk_metrics)."""
    yaw_rate_error_rad_s: float | None = None
    """Walk: mean yaw-rate tracking error (rad/s)."""
    stand_drift_m_s: float | None = None
    """Walk: mean speed while commanded to stand (m/s); None when no step was."""
    foot_slip_m_s: float | None = None
    """Walk: mean speed of the feet in contact (m/s)."""
    step_frequency_hz: float | None = None
    """Walk: touchdowns per foot per second (Hz)."""
    plot: str | None = None
    """Walk: PNG of episode 0 (commanded vs measured velocity, gait diagram), or None."""
    target_from: str = "truth"
    """Reach: where the policy's target came from: "truth" (the sampled target) or "vision" (the camera)."""
    target_detection_rate: float | None = None
    """Reach from vision: fraction of episodes whose marker was detected."""
    target_error_m: float | None = None
    """Reach from vision: mean distance between the detected and the true target (m)."""
    video: str | None = None
    """MP4 of episode 0, or None (not asked for, or the env cannot be rendered)."""
    video_frames: int = 0
    """Frames written to the video."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON of `to_dict` (NaN is refused, so the file is strict JSON)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> EvalReport:
        """Parse `to_json` output."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"eval report has unknown keys {unknown}; expected only {sorted(known)}")
        return cls(**data)

    def table(self) -> str:
        """Human-readable two-column summary."""
        rows: list[tuple[str, str]] = [
            ("policy", self.policy),
            ("task / robot", f"{self.task} / {self.robot}"),
            ("episodes (seed)", f"{self.episodes} ({self.seed}…{self.seed + self.episodes - 1})"),
            ("return", f"{self.mean_return:.3f} ± {self.std_return:.3f}"),
            ("episode length", f"{self.mean_episode_seconds:.2f} s"),
            ("fall rate", f"{self.fall_rate:.0%}"),
        ]
        if self.final_distance_m is not None:
            rows.append(("final distance", f"{1000 * float(np.mean(self.final_distance_m)):.1f} mm (mean)"))
        if self.success_rate is not None:
            rows.append((f"success (≤ {1000 * (self.success_tolerance_m or 0):.0f} mm)", f"{self.success_rate:.0%}"))
        if self.lin_vel_error_m_s is not None:
            rows.append(("linear velocity error", f"{self.lin_vel_error_m_s:.3f} m/s"))
            rows.append(("yaw rate error", f"{self.yaw_rate_error_rad_s:.3f} rad/s"))
            drift = "no stand command" if self.stand_drift_m_s is None else f"{self.stand_drift_m_s:.3f} m/s"
            rows.append(("drift while standing", drift))
            rows.append(("foot slip", f"{self.foot_slip_m_s:.3f} m/s"))
            rows.append(("step frequency", f"{self.step_frequency_hz:.2f} Hz"))
        if self.plot is not None:
            rows.append(("plot", self.plot))
        if self.target_detection_rate is not None:
            rows.append(
                (
                    "target from",
                    f"vision: detected in {self.target_detection_rate:.0%} of episodes, "
                    f"mean error {1000 * (self.target_error_m or 0):.1f} mm",
                )
            )
        if self.video is not None:
            rows.append(("video", f"{self.video} ({self.video_frames} frames)"))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

    def __str__(self) -> str:
        return self.table()


def evaluate(
    policy_path: str | os.PathLike,
    task: str,
    *,
    episodes: int,
    seed: int,
    robot: str | None = None,
    video: str | os.PathLike | None = None,
    overrides: dict[str, Any] | None = None,
    success_tolerance_m: float = SUCCESS_TOLERANCE_M,
    video_size: tuple[int, int] = (640, 480),
    commands: str | os.PathLike | None = None,
    plot: str | os.PathLike | None = None,
    target_from: str = "truth",
    task_config: str | None = None,
    progress: bool = True,
) -> EvalReport:
    """Run `episodes` deterministic episodes of the policy file in env `task` and summarise them.

    Args:
        policy_path: policy .onnx with an embedded contract.
        task: Gym env id, e.g. "physai/Balance-v0".
        episodes: number of episodes (≥ 1); episode i is reset with seed `seed + i`.
        seed: seed of episode 0.
        robot: robot to simulate; default (and the only one that passes the check) the contract's robot.
        video: MP4 path to record episode 0 to (~25–30 fps), or None.
        overrides: task config overrides passed to `gym.make` (e.g. {"episode_length_s": 1.0}).
        success_tolerance_m: Reach success threshold on the final distance (m).
        video_size: (width, height) of the video in pixels.
        commands: Walk: YAML timeline of (t, vx, vy, yaw rate) (physai.control.teleop.CommandTimeline) that
            replaces the random commands in every episode.
        plot: Walk: PNG path for episode 0's commanded vs measured velocity and gait diagram.
        task_config: the task YAML the policy was trained with (name under sim_envs/tasks or a path), e.g.
            walk_g1; default the task's own.
        target_from: Reach: "truth" or "vision" (the marker cube on the target, seen by scene_cam at 640×480
            through physai.vision: the camera pipeline of perception_node, without ROS).
        progress: a progress bar over the episodes on stderr.

    Raises:
        ContractMismatch: the file's contract does not fit the robot or differs from the env's contract.
    """
    import gymnasium as gym

    import physai.envs  # noqa: F401 (registers the env ids)

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes is {episodes!r}; expected an integer ≥ 1")
    policy = OnnxPolicy(policy_path)
    contract = policy.contract
    kwargs: dict[str, Any] = {"robot": robot or contract.robot}
    if target_from not in ("truth", "vision"):
        raise ValueError(f"target_from is {target_from!r}; expected truth or vision")
    if target_from == "vision":
        overrides = {**(overrides or {}), "target_camera": "scene_cam"}
        kwargs["scene"] = "marker_cube"
    if overrides:
        kwargs["overrides"] = overrides
    if task_config:
        kwargs["config"] = task_config
    env = gym.make(task, **kwargs)
    try:
        base = env.unwrapped
        contract.check(base.robot_spec)
        check_same_contract(contract, base.contract, source=str(policy.path), task=task)
        floating = bool(getattr(base.robot_spec, "floating_base", True))
        if commands is not None:
            if not hasattr(base.task, "command_timeline"):
                raise ValueError(f"--commands needs a velocity-command task (physai/Walk-v0); {task} has none")
            base.task.command_timeline = CommandTimeline.load(commands)
        walk_logs: list[WalkLog] = []
        seen: list[bool] = []
        target_errors: list[float] = []
        returns: list[float] = []
        steps: list[int] = []
        falls: list[bool] = []
        distances: list[float] = []
        recorder, world_data, every = (
            _open_video(env, video, contract, video_size) if video is not None else (None, lambda: None, 1)
        )
        try:
            for i in tqdm(range(episodes), desc=f"evaluating {task}", unit="episode", disable=not progress):
                obs, info = env.reset(seed=seed + i)
                log = WalkLog.empty(contract.control_dt_s)
                total, n, done = 0.0, 0, False
                terminated = truncated = False
                if recorder is not None and i == 0:
                    recorder.capture(world_data())
                while not done:
                    action = policy(obs)
                    if not np.isfinite(action).all():
                        raise ValueError(
                            f"{policy.path}: the policy returned NaN/Inf at episode {i} (seed {seed + i}), step {n}"
                        )
                    obs, reward, terminated, truncated, info = env.step(action)
                    total += float(reward)
                    n += 1
                    done = bool(terminated or truncated)
                    if "cmd_vx" in info:
                        log.add(info)
                    if recorder is not None and i == 0 and n % every == 0:
                        recorder.capture(world_data())
                if log.command:
                    walk_logs.append(log)
                returns.append(total)
                steps.append(n)
                falls.append(_fell(info, terminated, truncated, floating))
                if "distance_m" in info:
                    distances.append(float(info["distance_m"]))
                if "target_seen" in info:
                    seen.append(bool(info["target_seen"]))
                    target_errors.append(float(info["target_error_m"]))
        finally:
            frames = recorder.frames if recorder is not None else 0
            if recorder is not None:
                recorder.close()
    finally:
        env.close()

    reach = len(distances) == episodes
    walk = walk_metrics(walk_logs, contract.gait_frequency_hz) if walk_logs else None
    if walk is not None and plot is not None:
        plot_walk(walk_logs[0], plot, f"{Path(policy.path).name}: episode 0 (seed {seed})", contract.gait_frequency_hz)

    def walk_figure(name: str) -> float | None:
        value = None if walk is None else getattr(walk, name)
        return None if value is None or not math.isfinite(value) else float(value)

    return EvalReport(
        policy=str(policy.path),
        task=task,
        robot=contract.robot,
        episodes=episodes,
        seed=seed,
        mean_return=float(np.mean(returns)),
        std_return=float(np.std(returns)),
        mean_episode_seconds=float(np.mean(steps)) * contract.control_dt_s,
        fall_rate=float(np.mean(falls)),
        episode_returns=returns,
        episode_steps=steps,
        final_distance_m=distances if reach else None,
        success_rate=float(np.mean([d <= success_tolerance_m for d in distances])) if reach else None,
        success_tolerance_m=success_tolerance_m if reach else None,
        lin_vel_error_m_s=walk_figure("lin_vel_error_m_s"),
        yaw_rate_error_rad_s=walk_figure("yaw_rate_error_rad_s"),
        stand_drift_m_s=walk_figure("stand_drift_m_s"),
        foot_slip_m_s=walk_figure("foot_slip_m_s"),
        step_frequency_hz=walk_figure("step_frequency_hz"),
        plot=str(plot) if walk is not None and plot is not None else None,
        target_from=target_from,
        target_detection_rate=float(np.mean(seen)) if seen else None,
        target_error_m=float(np.mean([e for e, s in zip(target_errors, seen, strict=True) if s]))
        if any(seen)
        else None,
        video=str(video) if recorder is not None else None,
        video_frames=frames,
    )


def check_same_contract(
    policy: PolicyContract, env: PolicyContract, *, source: str = "policy", task: str = "env"
) -> None:
    """Refuse (ContractMismatch "contract") unless the two contracts are equal; the message names each differing field.

    E.g. "observation[4] (joint_vel).scale: policy has 1.0, env has 0.05".
    """
    diffs = contract_differences(policy.to_dict(), env.to_dict())
    if not diffs:
        return
    shown = "; ".join(diffs[:8]) + (f"; … ({len(diffs) - 8} more)" if len(diffs) > 8 else "")
    raise ContractMismatch(
        "contract",
        f"{source}: the policy's contract differs from {task}'s, so its observations/actions would be misread: {shown}",
    )


def contract_differences(policy: Any, env: Any, path: str = "") -> list[str]:
    """Differences between two `PolicyContract.to_dict()` values as "field: policy has X, env has Y" lines."""
    if isinstance(policy, dict) and isinstance(env, dict):
        out: list[str] = []
        for key in [*policy, *(k for k in env if k not in policy)]:
            sub = f"{path}.{key}" if path else key
            if key not in policy or key not in env:
                where = "policy" if key in policy else "env"
                out.append(f"{sub}: only the {where} has it")
            else:
                out += contract_differences(policy[key], env[key], sub)
        return out
    if isinstance(policy, list) and isinstance(env, list) and len(policy) == len(env) and policy != env:
        out = []
        for i, (a, b) in enumerate(zip(policy, env, strict=True)):
            label = f"{path}[{i}]"
            if isinstance(a, dict) and isinstance(b, dict) and a.get("name") == b.get("name") and "name" in a:
                label += f" ({a['name']})"
            out += contract_differences(a, b, label)
        if len(out) <= 3 or not all(isinstance(v, (int, float)) for v in [*policy, *env]):
            return out
        return [f"{path}: policy has {_short(policy)}, env has {_short(env)}"]  # one line for a per-joint vector
    if policy != env:
        return [f"{path}: policy has {_short(policy)}, env has {_short(env)}"]
    return []


def _short(value: Any, limit: int = 120) -> str:
    if isinstance(value, list) and value and all(isinstance(t, dict) and "name" in t for t in value):
        text = "[" + ", ".join(str(t["name"]) for t in value) + "]"
    else:
        text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fell(info: dict[str, Any], terminated: bool, truncated: bool, floating_base: bool) -> bool:
    """A fall: the env's info["fell"] when present; else, for floating-base robots, termination before truncation."""
    if "fell" in info:
        return bool(info["fell"])
    return bool(floating_base and terminated and not truncated)


def _render_source(base: Any) -> tuple[Any, Callable[[], Any]] | None:
    """(MjModel, () -> MjData of the env's world) from the env's simulator, or None when it exposes none.

    Vectorised envs give `mjdata()` (world 0) and `task.sim.model`; simple ones a `sim` with `model`/`data`.
    """
    task_sim = getattr(getattr(base, "task", None), "sim", None)
    if callable(getattr(base, "mjdata", None)) and hasattr(task_sim, "model"):
        return task_sim.model, base.mjdata
    sim = getattr(base, "sim", None)
    if sim is not None and hasattr(sim, "model") and hasattr(sim, "data"):
        return sim.model, lambda: sim.data
    return None


def _open_video(
    env: Any, path: str | os.PathLike, contract: PolicyContract, size: tuple[int, int]
) -> tuple[Any, Callable[[], Any], int]:
    """(VideoRecorder, () -> MjData to capture, capture period in policy steps); recorder None (warned) if unrenderable."""
    base = env.unwrapped
    source = _render_source(base)
    if source is None:
        warnings.warn(
            f"video not recorded: {type(base).__name__} exposes no simulator to render "
            "(expected `mjdata()` with `task.sim.model`, or `sim.model`/`sim.data`)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None, lambda: None, 1
    model, data = source
    from physai.sim.render import VideoRecorder, frame_camera

    every = max(1, math.ceil((1.0 / contract.control_dt_s) / VIDEO_FPS_TARGET - 1e-9))
    fps = max(1, round(1.0 / (contract.control_dt_s * every)))
    width, height = size
    camera = frame_camera(model, base.robot_spec)
    recorder = VideoRecorder(model, Path(path), fps=fps, width=width, height=height, camera=camera)
    return recorder, data, every
