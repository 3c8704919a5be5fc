"""Run an exported policy file with onnxruntime (no torch): the inference path of evaluation and the ROS nodes.

    policy = OnnxPolicy("policies/balance/policy.onnx")
    policy.contract.check(spec)                  # the file's own contract; refuse a robot it does not fit
    action = policy(obs)                         # (obs_dim,) → (action_dim,), or (B, obs_dim) → (B, action_dim)
    q_target = action_to_targets(action, policy.contract)   # applies the contract's clip and scale

The output is the raw policy action; the contract's `ActionSpec.clip` is applied by `action_to_targets`, never
here. One intra-op and one inter-op thread on the CPU execution provider (DESIGN.md runtime rules).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from physai.contract import ContractError, ContractMismatch, PolicyContract, read_from_onnx


class OnnxPolicy:
    """A policy file loaded into onnxruntime, with its validated contract."""

    def __init__(self, path: str | os.PathLike, *, intra_op_threads: int = 1) -> None:
        """Load `path` and read its contract.

        Args:
            path: the policy .onnx written by `physai.rl.export.export_policy`.
            intra_op_threads: onnxruntime intra-op threads (1 for control loops; inter-op is always 1).

        Raises:
            FileNotFoundError: no such file.
            ContractError: not a readable ONNX model (NoContractError: no embedded contract; ContractMismatch:
                graph sizes disagree with the contract).
        """
        import onnxruntime as ort

        self.path = Path(path)
        """The policy file."""
        if not self.path.is_file():
            raise FileNotFoundError(f"policy file {self.path} does not exist")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(intra_op_threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # never busy-wait (DESIGN.md)
        options.log_severity_level = 3  # errors only: shape-inference chatter is not the user's business
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ContractError(f"{self.path} is not a readable ONNX policy ({reason})") from None
        self.contract: PolicyContract = read_from_onnx(self.session)
        """The contract embedded in the file (validated; graph sizes checked against it)."""
        self.input_name: str = self.session.get_inputs()[0].name
        self.output_name: str = self.session.get_outputs()[0].name
        self._outputs = [self.output_name]
        self._probe()

    def _probe(self) -> None:
        """Run one zero observation: the graph's real output must be float32 (1, action_dim), whatever it declares.

        Also the first-run warm-up, so a control loop's first tick does not pay for allocation.
        """
        out = self.session.run(self._outputs, {self.input_name: np.zeros((1, self.obs_dim), np.float32)})[0]
        if out.dtype != np.float32 or out.shape != (1, self.action_dim):
            raise ContractMismatch(
                "action_dim",
                f"{self.path}: the graph returns {out.dtype} of shape {out.shape} for one observation; the contract "
                f"expects float32 of shape (1, {self.action_dim}) (its action_dim is {self.action_dim})",
            )

    @property
    def obs_dim(self) -> int:
        """Size of one observation (= contract.obs_dim)."""
        return self.contract.obs_dim

    @property
    def action_dim(self) -> int:
        """Size of one action (= contract.action_dim, one value per joint in contract order)."""
        return self.contract.action_dim

    def __call__(self, obs: Any) -> np.ndarray:
        """The deterministic raw action, float32: (obs_dim,) → (action_dim,), (B, obs_dim) → (B, action_dim).

        Raises ValueError for any other shape. NaN passes through (the safety layer rejects it).
        """
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == 1
        if x.ndim not in (1, 2) or x.shape[-1] != self.obs_dim:
            raise ValueError(
                f"observation has shape {x.shape}; expected ({self.obs_dim},) or (batch, {self.obs_dim}) "
                f"(contract of {self.path.name}: {self.contract.to_onnx_metadata()['physai.observation']})"
            )
        x = np.ascontiguousarray(x[None] if single else x)
        action = self.session.run(self._outputs, {self.input_name: x})[0]
        return action[0] if single else action

    def __repr__(self) -> str:
        return (
            f"OnnxPolicy({str(self.path)!r}, robot={self.contract.robot!r}, obs_dim={self.obs_dim}, "
            f"action_dim={self.action_dim})"
        )
