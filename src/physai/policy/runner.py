"""PolicyRunner: one policy step from measured arrays to joint targets, the deploy-side twin of the env step.

    runner = PolicyRunner("policies/biped_balance/policy.onnx")
    q_target, action = runner.step(names, q, dq, gyro, quat_wxyz, command=(0.0, 0.0, 0.0))

The observation is built by `physai.contract.ObservationBuilder` (the same code the training env uses), the
action comes from onnxruntime (1 thread), is clipped by the contract (and remembered as last_action) and
mapped to joint position targets (rad) in contract joint order. No ROS, no torch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from physai.contract import ObservationBuilder, action_to_targets, clip_action
from physai.policy.inference import OnnxPolicy


@dataclass(frozen=True)
class MeasuredInputs:
    """Observation inputs in contract joint order (what `compute_terms` reads)."""

    joint_pos: np.ndarray
    joint_vel: np.ndarray
    gyro: np.ndarray
    imu_quat: np.ndarray


class PolicyRunner:
    """Stateful policy stepping (history, last action) with per-step inference timing."""

    def __init__(self, policy_path: str) -> None:
        self.policy = OnnxPolicy(policy_path)
        self.contract = self.policy.contract
        self.joint_names = tuple(self.contract.joint_names)
        self._builder = ObservationBuilder(self.contract)
        self._last_action = np.zeros(self.contract.action_dim)
        self._order_cache: tuple[tuple[str, ...], np.ndarray] | None = None
        self.inference_us: list[float] = []
        """Inference time of recent steps (µs), newest last, at most 1000 kept."""

    def reset(self) -> None:
        """Forget history and last action (e.g. after the inputs were stale)."""
        self._builder.reset()
        self._last_action = np.zeros(self.contract.action_dim)

    def warm_up(self, steps: int = 3) -> None:
        """Run a few steps on neutral inputs and forget them.

        The first inferences (allocations, lazy set-up) are slow; a node must not pause between its first commands.
        """
        n = len(self.joint_names)
        for _ in range(steps):
            self.step(self.joint_names, np.zeros(n), np.zeros(n), np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]))
        self.reset()
        self.inference_us.clear()

    def order(self, names: Sequence[str]) -> np.ndarray:
        """Indices that take a message's joints into contract order; ValueError naming missing joints."""
        key = tuple(names)
        if self._order_cache is None or self._order_cache[0] != key:
            index = {name: i for i, name in enumerate(key)}
            missing = [n for n in self.joint_names if n not in index]
            if missing:
                raise ValueError(f"joint_states lacks joints {missing} that the policy contract needs")
            self._order_cache = (key, np.array([index[n] for n in self.joint_names]))
        return self._order_cache[1]

    def step(
        self,
        names: Sequence[str],
        position: Sequence[float],
        velocity: Sequence[float],
        gyro: np.ndarray,
        quat_wxyz: np.ndarray,
        command: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> tuple[np.ndarray, np.ndarray]:
        """(joint targets (rad), clipped action) for one policy period from measured values."""
        idx = self.order(names)
        inputs = MeasuredInputs(
            joint_pos=np.asarray(position, np.float64)[idx],
            joint_vel=np.asarray(velocity, np.float64)[idx],
            gyro=np.asarray(gyro, np.float64),
            imu_quat=np.asarray(quat_wxyz, np.float64),
        )
        obs = self._builder(inputs, np.asarray(command, np.float64), self._last_action)
        start = time.perf_counter_ns()
        raw = self.policy(obs).astype(np.float64)
        self.inference_us.append((time.perf_counter_ns() - start) / 1000.0)
        del self.inference_us[:-1000]
        action = clip_action(raw, self.contract)
        self._last_action = action
        return action_to_targets(action, self.contract), action
