"""Export a trained SB3 policy to ONNX with its contract embedded, and prove the file computes the same actions.

    report = export_policy(model, env.unwrapped.contract, "policies/balance/policy.onnx")
    report = export_policy("runs/balance/model.zip", contract, "policy.onnx", obs_rms="runs/balance/vecnormalize.pkl")

The graph has one input `obs` [batch, obs_dim] float32 and one output `action` [batch, action_dim] float32
(dynamic batch axis). It computes the DETERMINISTIC action:

- PPO / A2C (`ActorCriticPolicy`): the Gaussian mean `action_net(mlp_extractor.forward_actor(features))`
  (tanh of it for gSDE with `squash_output`). It is NOT clipped: SB3's `predict` clips to the action space,
  but at runtime `physai.contract.action_to_targets` applies the contract's `ActionSpec.clip` (the env does
  the same during training), so clipping in the graph as well would clip twice.
- SAC (`SACPolicy`): `tanh(actor.mu(actor.latent_pi(features)))`, rescaled to the action space bounds when
  they are not [-1, 1] (as SB3's `predict` does).

Observation normalization from `VecNormalize` (`obs_rms`) is baked into the graph:
obs_n = clip((obs − mean) / sqrt(var + epsilon), −clip_obs, clip_obs), so the input is the raw contract
observation and the deploy side never needs the statistics.

Exporter: torch 2.13's default (dynamo) `torch.onnx.export` needs the `onnxscript` package, which is not a
physai dependency; the TorchScript exporter (`dynamo=False`) needs nothing extra, is exact for these MLPs
and takes ~0.1 s, so it is the default here (`exporter="dynamo"` uses the other one when onnxscript is
installed). Whatever exporter runs, the file is only written when onnxruntime's output matches SB3's own
deterministic action within `atol` on `check_samples` observations.

torch and stable_baselines3 are imported inside the functions only.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from physai.contract import PolicyContract, attach_to_onnx, read_from_onnx

if TYPE_CHECKING:
    import torch
    from stable_baselines3.common.base_class import BaseAlgorithm

ALGOS = ("ppo", "a2c", "sac")
"""Algorithms whose checkpoints `export_policy` loads (PPO and A2C share `ActorCriticPolicy`)."""
EXPORTERS = ("torchscript", "dynamo")
"""`torch.onnx.export` back ends: "torchscript" (dynamo=False, no extra dependency) or "dynamo" (needs onnxscript)."""
OPSET = 17
"""ONNX opset of the TorchScript exporter (onnxruntime 1.31 runs up to opset 23)."""
INPUT_NAME = "obs"
"""Name of the graph input: the contract observation, [batch, obs_dim] float32."""
OUTPUT_NAME = "action"
"""Name of the graph output: the raw (unclipped) policy action, [batch, action_dim] float32."""


class ExportError(RuntimeError):
    """The model cannot be exported, or the exported graph does not compute what the model computes."""


@dataclass(frozen=True)
class ObsNormalization:
    """VecNormalize observation statistics: obs_n = clip((obs − mean) / sqrt(var + epsilon), −clip_obs, clip_obs)."""

    mean: tuple[float, ...]
    """Running mean of the raw observation, (obs_dim,)."""
    var: tuple[float, ...]
    """Running variance of the raw observation, (obs_dim,), ≥ 0."""
    clip_obs: float = 10.0
    """Normalized observations are clipped to [−clip_obs, clip_obs] (> 0)."""
    epsilon: float = 1e-8
    """Added to the variance before the square root (> 0)."""

    def __post_init__(self) -> None:
        mean = tuple(float(v) for v in np.asarray(self.mean, dtype=np.float64).reshape(-1))
        var = tuple(float(v) for v in np.asarray(self.var, dtype=np.float64).reshape(-1))
        if len(mean) != len(var):
            raise ValueError(
                f"obs_rms.mean has {len(mean)} values but obs_rms.var has {len(var)}; expected equal sizes"
            )
        if not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v >= 0 for v in var):
            raise ValueError("obs_rms.mean/var contain NaN, Inf or a negative variance; expected finite statistics")
        if not (math.isfinite(self.clip_obs) and self.clip_obs > 0):
            raise ValueError(f"obs_rms.clip_obs is {self.clip_obs!r}; expected a finite number > 0")
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"obs_rms.epsilon is {self.epsilon!r}; expected a finite number > 0")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "var", var)
        object.__setattr__(self, "clip_obs", float(self.clip_obs))
        object.__setattr__(self, "epsilon", float(self.epsilon))

    @classmethod
    def coerce(cls, value: Any) -> ObsNormalization | None:
        """From an ObsNormalization, a `VecNormalize` (object or its .pkl path), or a mapping.

        A mapping has keys mean, var and optionally clip (or clip_obs) and epsilon. Returns None for a
        VecNormalize with `norm_obs=False`.
        """
        if value is None or isinstance(value, ObsNormalization):
            return value
        if isinstance(value, (str, os.PathLike)):
            path = Path(value)
            if not path.is_file():
                raise FileNotFoundError(f"obs_rms file {path} does not exist (expected a VecNormalize .pkl)")
            with path.open("rb") as f:
                value = pickle.load(f)
        if isinstance(value, Mapping):
            unknown = set(value) - {"mean", "var", "clip", "clip_obs", "epsilon"}
            if unknown or not {"mean", "var"} <= set(value):
                raise ValueError(
                    f"obs_rms has keys {sorted(value)}; expected mean, var and optionally clip (clip_obs), epsilon"
                )
            clip = value.get("clip_obs", value.get("clip", 10.0))
            return cls(value["mean"], value["var"], clip_obs=clip, epsilon=value.get("epsilon", 1e-8))
        rms = getattr(value, "obs_rms", None)
        if rms is not None and hasattr(value, "clip_obs"):  # VecNormalize
            if not getattr(value, "norm_obs", True):
                return None
            if isinstance(rms, Mapping):
                raise ValueError("obs_rms: VecNormalize with dict observations is not supported; expected a Box")
            return cls(rms.mean, rms.var, clip_obs=value.clip_obs, epsilon=value.epsilon)
        if hasattr(value, "mean") and hasattr(value, "var"):  # a bare RunningMeanStd
            return cls(value.mean, value.var)
        raise TypeError(
            f"obs_rms is a {type(value).__name__}; expected an ObsNormalization, a VecNormalize (or its .pkl path), "
            "or a mapping with mean, var, clip, epsilon"
        )

    def apply(self, obs: np.ndarray) -> np.ndarray:
        """Normalize like VecNormalize does (float64), (..., obs_dim)."""
        std = np.sqrt(np.asarray(self.var) + self.epsilon)
        return np.clip((np.asarray(obs, dtype=np.float64) - np.asarray(self.mean)) / std, -self.clip_obs, self.clip_obs)


@dataclass(frozen=True)
class ExportReport:
    """What `export_policy` wrote and how well the ONNX graph matches the SB3 policy."""

    path: str
    """The policy file written."""
    algo: str
    """Policy family exported: "ppo" (also A2C) or "sac"."""
    exporter: str
    """`torch.onnx.export` back end used: "torchscript" or "dynamo"."""
    obs_dim: int
    """Graph input size (= contract.obs_dim)."""
    action_dim: int
    """Graph output size (= contract.action_dim)."""
    obs_normalization: bool
    """True when VecNormalize statistics are baked into the graph."""
    check_samples: int
    """Observations on which onnxruntime was compared with the SB3 policy."""
    max_abs_diff: float
    """Largest |onnxruntime − SB3 deterministic action| over those samples."""
    atol: float
    """The tolerance max_abs_diff had to meet."""
    file_size_bytes: int
    """Size of the policy file, contract included."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def export_policy(
    model_or_checkpoint: BaseAlgorithm | str | os.PathLike,
    contract: PolicyContract,
    path: str | os.PathLike,
    *,
    algo: str | None = None,
    obs_rms: Any = None,
    samples: np.ndarray | None = None,
    check_samples: int = 256,
    atol: float = 1e-5,
    exporter: str = "torchscript",
    seed: int = 0,
) -> ExportReport:
    """Write the deterministic actor of an SB3 PPO/A2C/SAC model to `path` as ONNX carrying `contract`.

    Args:
        model_or_checkpoint: an SB3 model, or the .zip it was saved to (its algorithm is read from the
            zip unless `algo` is given).
        contract: the env's `PolicyContract`; its obs_dim/action_dim must match the model's spaces.
        path: output file (parent folders are created). Written only after the check passes.
        algo: "ppo", "a2c" or "sac" for a checkpoint (ignored for a model object).
        obs_rms: VecNormalize statistics to bake in (see `ObsNormalization.coerce`), or None.
        samples: realistic observations (N, obs_dim) checked in addition to the random ones.
        check_samples: random observations (standard normal × 2, the first one all zeros) checked.
        atol: largest accepted |onnxruntime − SB3| action difference.
        exporter: "torchscript" (default, no extra dependency) or "dynamo" (needs onnxscript).
        seed: seed of the random check observations.

    Returns:
        An ExportReport with the measured max_abs_diff and the file size.

    Raises:
        ExportError: unsupported model, size mismatch with the contract, or a graph that disagrees with the model.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter is {exporter!r}; expected one of {', '.join(EXPORTERS)}")
    if not isinstance(contract, PolicyContract):
        raise TypeError(f"contract is a {type(contract).__name__}; expected a PolicyContract (env.unwrapped.contract)")
    model = _load_model(model_or_checkpoint, algo)
    family = _family(model)
    policy = model.policy
    obs_dim, action_dim = _check_spaces(policy, contract)
    norm = ObsNormalization.coerce(obs_rms)
    if norm is not None and len(norm.mean) != obs_dim:
        raise ExportError(f"obs_rms has {len(norm.mean)} statistics; the contract's obs_dim is {obs_dim}")

    check = _check_observations(obs_dim, check_samples, samples, seed)
    reference = _sb3_actions(policy, family, check if norm is None else norm.apply(check))
    module = _actor_module(policy, family, norm)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        _onnx_export(module, obs_dim, tmp, exporter)
        attach_to_onnx(tmp, contract)
        if read_from_onnx(tmp) != contract:
            raise ExportError(f"{tmp}: the contract read back differs from the one attached")
        got = _run_onnx(tmp, check)
        if got.shape != reference.shape:
            raise ExportError(f"the exported graph returns shape {got.shape}; expected {reference.shape}")
        diff = float(np.max(np.abs(got.astype(np.float64) - reference)))
        if not diff <= atol:  # also catches NaN
            raise ExportError(
                f"the exported ONNX graph disagrees with the {family.upper()} policy: max |onnx − sb3| = {diff:.3g} "
                f"over {len(check)} observations; expected ≤ {atol:g}. Nothing was written to {out}"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportReport(
        path=str(out),
        algo=family,
        exporter=exporter,
        obs_dim=obs_dim,
        action_dim=action_dim,
        obs_normalization=norm is not None,
        check_samples=len(check),
        max_abs_diff=diff,
        atol=atol,
        file_size_bytes=out.stat().st_size,
    )


# ---- model loading and inspection ---------------------------------------------------------------------------
def detect_algo(checkpoint: str | os.PathLike) -> str:
    """The algorithm ("ppo", "a2c", "sac") of an SB3 checkpoint .zip, read from its `data` JSON (nothing unpickled)."""
    path = Path(checkpoint)
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise ExportError(
            f"{path} is not an SB3 checkpoint .zip ({err}); expected the file model.save() wrote"
        ) from None
    module = str(data.get("policy_class", {}).get("__module__", ""))
    if module == "stable_baselines3.sac.policies":
        return "sac"
    if module == "stable_baselines3.common.policies":
        return "ppo" if "clip_range" in data else "a2c"
    raise ExportError(
        f"{path}: cannot tell the algorithm from policy class module {module!r}; pass algo= (one of {', '.join(ALGOS)})"
    )


def _load_model(model_or_checkpoint: Any, algo: str | None) -> BaseAlgorithm:
    if not isinstance(model_or_checkpoint, (str, os.PathLike)):
        if not hasattr(model_or_checkpoint, "policy"):
            raise TypeError(
                f"model_or_checkpoint is a {type(model_or_checkpoint).__name__}; expected an SB3 model or a .zip path"
            )
        return model_or_checkpoint
    path = Path(model_or_checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    name = (algo or detect_algo(path)).lower()
    import stable_baselines3 as sb3

    classes = {"ppo": sb3.PPO, "a2c": sb3.A2C, "sac": sb3.SAC}
    if name not in classes:
        raise ExportError(f"algo is {algo!r}; expected one of {', '.join(ALGOS)}")
    return classes[name].load(path, device="cpu")


def _family(model: BaseAlgorithm) -> str:
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.sac.policies import SACPolicy

    policy = model.policy
    if isinstance(policy, SACPolicy):
        return "sac"
    if isinstance(policy, ActorCriticPolicy):
        from stable_baselines3.common.distributions import (
            DiagGaussianDistribution,
            StateDependentNoiseDistribution,
        )

        if not isinstance(policy.action_dist, (DiagGaussianDistribution, StateDependentNoiseDistribution)):
            raise ExportError(
                f"{type(policy.action_dist).__name__} actions are not supported; expected a continuous (Box) action space"
            )
        return "ppo"
    raise ExportError(
        f"{type(model).__name__} with {type(policy).__name__} is not supported; expected PPO, A2C (ActorCriticPolicy) "
        "or SAC (SACPolicy)"
    )


def _check_spaces(policy: Any, contract: PolicyContract) -> tuple[int, int]:
    from gymnasium import spaces

    obs_space, act_space = policy.observation_space, policy.action_space
    if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
        raise ExportError(f"observation space {obs_space} is not supported; expected a 1-D Box (the contract vector)")
    if not isinstance(act_space, spaces.Box) or len(act_space.shape) != 1:
        raise ExportError(f"action space {act_space} is not supported; expected a 1-D Box")
    if obs_space.shape[0] != contract.obs_dim:
        raise ExportError(
            f"the model's observation has {obs_space.shape[0]} values; the contract's obs_dim is {contract.obs_dim} "
            "(was the model trained on a different env or observation layout?)"
        )
    if act_space.shape[0] != contract.action_dim:
        raise ExportError(
            f"the model's action has {act_space.shape[0]} values; the contract's action_dim is {contract.action_dim} "
            f"(joints {', '.join(contract.joint_names)})"
        )
    return contract.obs_dim, contract.action_dim


def _check_observations(obs_dim: int, count: int, samples: np.ndarray | None, seed: int) -> np.ndarray:
    if count < 0 or (count == 0 and samples is None):
        raise ValueError(f"check_samples is {count}; expected ≥ 1 (or ≥ 0 with samples): the export is always verified")
    rng = np.random.default_rng(seed)
    random = 2.0 * rng.standard_normal((count, obs_dim))
    if count:
        random[0] = 0.0
    if samples is None:
        return random.astype(np.float32)
    real = np.asarray(samples, dtype=np.float32)
    if real.ndim == 1:
        real = real[None]
    if real.ndim != 2 or real.shape[1] != obs_dim:
        raise ValueError(f"samples has shape {real.shape}; expected (N, {obs_dim})")
    if not np.isfinite(real).all():
        raise ValueError("samples contain NaN or Inf; expected finite observations")
    out = np.concatenate([random.astype(np.float32), real])
    if not len(out):
        raise ValueError("no observations to verify the export on; expected check_samples ≥ 1 or samples")
    return out


def _sb3_actions(policy: Any, family: str, obs: np.ndarray) -> np.ndarray:
    """SB3's own deterministic action before `predict`'s clipping (float64), the reference the graph must meet."""
    import torch

    was_training = policy.training
    policy.set_training_mode(False)
    try:
        with torch.no_grad():
            tensor = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=policy.device)
            actions = policy._predict(tensor, deterministic=True).cpu().numpy().astype(np.float64)
    finally:
        policy.set_training_mode(was_training)
    if family == "sac" or policy.squash_output:
        actions = policy.unscale_action(actions)  # identity for a [-1, 1] action space
    return actions.reshape(len(obs), -1)


# ---- the exported module ----------------------------------------------------------------------------------
def _actor_module(policy: Any, family: str, norm: ObsNormalization | None) -> torch.nn.Module:
    """A CPU copy of the deterministic actor as one torch Module: obs [B, obs_dim] → action [B, action_dim]."""
    import copy

    import torch
    from torch import nn

    low = np.asarray(policy.action_space.low, dtype=np.float64)
    high = np.asarray(policy.action_space.high, dtype=np.float64)
    squash = family == "sac" or bool(policy.squash_output)
    rescale = squash and not (np.allclose(low, -1.0) and np.allclose(high, 1.0))

    class DeterministicActor(nn.Module):
        """obs → (VecNormalize) → features → latent → mean (→ tanh → action-space bounds)."""

        def __init__(self) -> None:
            super().__init__()
            if family == "sac":
                actor = policy.actor
                self.features = copy.deepcopy(actor.features_extractor)
                self.latent = copy.deepcopy(actor.latent_pi)
                self.head = copy.deepcopy(actor.mu)
            else:
                self.features = copy.deepcopy(policy.pi_features_extractor)
                self.latent = copy.deepcopy(policy.mlp_extractor)
                self.head = copy.deepcopy(policy.action_net)
            self.normalize = norm is not None
            if norm is not None:
                self.register_buffer("obs_mean", torch.tensor(norm.mean, dtype=torch.float32))
                std = np.sqrt(np.asarray(norm.var) + norm.epsilon)
                self.register_buffer("obs_inv_std", torch.tensor(1.0 / std, dtype=torch.float32))
                self.clip_obs = float(norm.clip_obs)
            self.squash = squash
            self.rescale = rescale
            if rescale:
                self.register_buffer("act_low", torch.tensor(low, dtype=torch.float32))
                self.register_buffer("act_span", torch.tensor(high - low, dtype=torch.float32))

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            x = obs
            if self.normalize:
                x = torch.clamp((x - self.obs_mean) * self.obs_inv_std, -self.clip_obs, self.clip_obs)
            features = self.features(x)
            latent = self.latent(features) if family == "sac" else self.latent.forward_actor(features)
            action = self.head(latent)
            if self.squash:
                action = torch.tanh(action)
            if self.rescale:
                action = self.act_low + 0.5 * (action + 1.0) * self.act_span
            return action

    return DeterministicActor().to("cpu").float().eval()


def _onnx_export(module: torch.nn.Module, obs_dim: int, path: Path, exporter: str) -> None:
    """torch.onnx.export with input `obs` and output `action`, dynamic batch axis."""
    import torch

    example = torch.zeros((2, obs_dim), dtype=torch.float32)
    with warnings.catch_warnings(), torch.no_grad():
        if exporter == "torchscript":
            # The TorchScript exporter is deprecated in favour of dynamo (which needs onnxscript); see the module doc.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx.*")
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            torch.onnx.export(
                module,
                (example,),
                str(path),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
            return
        try:
            import onnxscript  # noqa: F401 (the dynamo exporter imports it)
        except ImportError:
            raise ExportError(
                'exporter="dynamo" needs the onnxscript package (pip install onnxscript==0.7.2); '
                'or use exporter="torchscript"'
            ) from None
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def _run_onnx(path: Path, obs: np.ndarray) -> np.ndarray:
    from physai.policy.inference import OnnxPolicy

    return OnnxPolicy(path)(obs)
