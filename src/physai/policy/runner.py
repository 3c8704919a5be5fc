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

from physai.contract import ObservationBuilder, PolicyContract, action_to_targets, clip_action
from physai.policy.inference import OnnxPolicy
from physai.robot.kinematics import Chain


@dataclass(frozen=True)
class MeasuredInputs:
    """Observation inputs in contract joint order (what `compute_terms` reads)."""

    joint_pos: np.ndarray
    joint_vel: np.ndarray
    gyro: np.ndarray
    imu_quat: np.ndarray
    ee_pos: np.ndarray | None = None
    """End effector in the base frame (m), from forward kinematics of the measured joints."""
    target_pos: np.ndarray | None = None
    """Reaching target in the base frame (m), given by the caller."""


MEASURED = ("joint_pos", "joint_vel", "gyro", "imu_quat")
"""Inputs every state carries (/joint_states, /imu/data)."""


def check_inputs(contract: PolicyContract, chain: Chain | None) -> None:
    """ValueError naming the first observation term the runtime cannot build (refused at start, not at step)."""
    for term in contract.observation:
        source = term.definition.source
        if not source.startswith("inputs.") or source.removeprefix("inputs.") in (*MEASURED, "target_pos"):
            continue
        if source == "inputs.ee_pos" and chain is None:
            raise ValueError(
                f"observation term 'ee_pos' has no runtime source: {contract.robot} has no kinematics.yaml beside its "
                f"robot.yaml; expected one (`physai robot kinematics {contract.robot}` writes it)"
            )
        if source != "inputs.ee_pos":
            raise ValueError(
                f"observation term '{term.name}' ({source}) has no runtime source; expected only terms a robot "
                "measures (this one is simulation truth: retrain without it)"
            )


class PolicyRunner:
    """Stateful policy stepping (history, last action) with per-step inference timing.

    `chain` gives the ee_pos term (forward kinematics of the measured joints); a policy with a term the runtime
    cannot build is refused here (check_inputs).
    """

    def __init__(self, policy_path: str, chain: Chain | None = None) -> None:
        self.policy = OnnxPolicy(policy_path)
        self.contract = self.policy.contract
        check_inputs(self.contract, chain)
        self.chain = chain
        self.needs_target = any(t.definition.source == "inputs.target_pos" for t in self.contract.observation)
        """The policy reads a reaching target (`step(..., target=...)`)."""
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
            target = np.zeros(3) if self.needs_target else None
            self.step(
                self.joint_names, np.zeros(n), np.zeros(n), np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]), target=target
            )
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
        target: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(joint targets (rad), clipped action) for one policy period from measured values.

        `target`: the reaching target in the base frame (m), for a policy that reads one (`needs_target`); None
        means none is seen, and the end effector's own position stands in (the arm holds, as the env trains it).
        """
        idx = self.order(names)
        ee_pos = None
        if self.chain is not None:
            try:
                ee_pos = self.chain.position(dict(zip(names, position, strict=True)))
            except KeyError as err:
                raise ValueError(f"joint_states lacks joint {err} that the end-effector chain needs") from None
        if self.needs_target and target is None:  # as in training: an unseen target is the end effector (hold)
            if ee_pos is None:
                raise ValueError("this policy reads a reaching target; expected step(..., target=(x, y, z))")
            target = ee_pos
        inputs = MeasuredInputs(
            joint_pos=np.asarray(position, np.float64)[idx],
            joint_vel=np.asarray(velocity, np.float64)[idx],
            gyro=np.asarray(gyro, np.float64),
            imu_quat=np.asarray(quat_wxyz, np.float64),
            ee_pos=ee_pos,
            target_pos=None if target is None else np.asarray(target, np.float64),
        )
        obs = self._builder(inputs, np.asarray(command, np.float64), self._last_action)
        start = time.perf_counter_ns()
        raw = self.policy(obs).astype(np.float64)
        self.inference_us.append((time.perf_counter_ns() - start) / 1000.0)
        del self.inference_us[:-1000]
        action = clip_action(raw, self.contract)
        self._last_action = action
        return action_to_targets(action, self.contract), action
