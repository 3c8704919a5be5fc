"""`physai train`: headless PPO/SAC training on the batched VecEnv, ending in a policy.onnx with its contract.

    result = train(TrainConfig(task="physai/Balance-v0", steps=2_000_000, n_envs=32, out="runs/balance"))

A run folder holds: `config.yaml` (the resolved training config and task config), `tb/` (TensorBoard:
SB3 losses plus `reward_terms/<name>` per rollout), `checkpoints/` (every `checkpoint_every` steps),
`model.zip` and `policy.onnx` (exported and checked against torch). `resume=True` continues from the
newest of model.zip / checkpoints with the same config.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from stable_baselines3.common.vec_env import VecMonitor
from tqdm import tqdm

from physai.envs import TASK_TYPES
from physai.envs.config import config_to_dict
from physai.errors import FieldError
from physai.rl.config import TrainConfig
from physai.rl.export import ExportReport, export_policy
from physai.rl.vec_env import BatchVecEnv

ALGOS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}


@dataclass(frozen=True)
class TrainResult:
    """What a run produced."""

    run_dir: Path
    policy_path: Path
    steps: int
    """Environment steps done (including earlier runs when resumed)."""
    wall_s: float
    """Wall time of this call's training (s), export excluded."""
    steps_per_s: float
    device: str
    export: ExportReport


class RewardTermLogger(BaseCallback):
    """Logs the mean of every reward term (per step, per world) over each rollout as `reward_terms/<name>`."""

    def __init__(self) -> None:
        super().__init__()
        self._sums: dict[str, float] = defaultdict(float)
        self._count = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            for name, value in info.get("reward_terms", {}).items():
                self._sums[name] += value
            self._count += 1
        return True

    def _on_rollout_end(self) -> None:
        for name, total in self._sums.items():
            self.logger.record(f"reward_terms/{name}", total / max(1, self._count))
        self._sums.clear()
        self._count = 0


class ProgressBar(BaseCallback):
    """A tqdm bar over environment steps."""

    def __init__(self, total: int, initial: int) -> None:
        super().__init__()
        self._bar = tqdm(total=total, initial=initial, unit="step", unit_scale=True, desc="training")

    def _on_step(self) -> bool:
        self._bar.update(self.model.num_timesteps - self._bar.n)
        return True

    def _on_training_end(self) -> None:
        self._bar.close()


def resolve_device(device: str) -> str:
    """Map "auto" to "cuda" when torch sees a GPU, else "cpu"; check other values."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device is {device!r}; expected auto, cpu or cuda[:N]")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device is {device!r} but torch sees no CUDA GPU; use --device cpu or auto")
    return device


def make_vec_env(config: TrainConfig) -> BatchVecEnv:
    """The batched VecEnv of the configured task, robot, worlds and task overrides."""
    if config.task not in TASK_TYPES:
        raise ValueError(f"task is {config.task!r}; expected one of {', '.join(TASK_TYPES)}")
    task_type = TASK_TYPES[config.task]
    task = task_type(
        config.robot or task_type.default_robot,
        config.n_envs,
        config=config.task_config or None,
        overrides=config.overrides or None,
        nthread=config.sim_threads or os.cpu_count(),
    )
    return BatchVecEnv(task)


def build_model(config: TrainConfig, env: Any, device: str) -> BaseAlgorithm:
    """A fresh SB3 model for `config.algo` with the configured hyperparameters."""
    tensorboard = str(Path(config.out) / "tb")
    if config.algo == "ppo":
        hp = dataclasses.asdict(config.ppo)
        policy_kwargs = {"net_arch": list(hp.pop("net_arch")), "log_std_init": hp.pop("log_std_init")}
        return PPO(
            "MlpPolicy",
            env,
            seed=config.seed,
            device=device,
            tensorboard_log=tensorboard,
            policy_kwargs=policy_kwargs,
            **hp,
        )
    if config.algo == "sac":
        hp = dataclasses.asdict(config.sac)
        policy_kwargs = {"net_arch": list(hp.pop("net_arch"))}
        return SAC(
            "MlpPolicy",
            env,
            seed=config.seed,
            device=device,
            tensorboard_log=tensorboard,
            policy_kwargs=policy_kwargs,
            **hp,
        )
    raise ValueError(f"algo is {config.algo!r}; expected one of {', '.join(ALGOS)}")


def newest_checkpoint(run_dir: Path) -> Path | None:
    """model.zip, or else the checkpoint with the most steps, or None."""
    if (run_dir / "model.zip").is_file():
        return run_dir / "model.zip"
    checkpoints = sorted(run_dir.glob("checkpoints/*_steps.zip"), key=lambda p: int(p.stem.split("_")[-2]))
    return checkpoints[-1] if checkpoints else None


RUN_FILES = ("config.yaml", "model.zip", "policy.onnx", "checkpoints")
"""What a run folder holds once a run has used it: `train` without resume refuses such a folder."""
RESUME_MAY_CHANGE = ("steps", "resume", "out", "device", "sim_threads", "torch_threads", "checkpoint_every")
"""Training settings a resumed run may change (how long and where it runs, not what it learns)."""


def check_run_dir(config: TrainConfig) -> Path | None:
    """The checkpoint to resume from (None: start fresh), after the folder rules; FieldError when they are broken.

    Without `resume` the folder must hold no run (nothing is overwritten); with it, a folder without a
    checkpoint starts fresh, which is said on stderr, as is the checkpoint resumed from.
    """
    run_dir = Path(config.out)
    used = [name for name in RUN_FILES if (run_dir / name).exists()]
    if not config.resume:
        if used:
            raise FieldError(
                "", "out", config.out, f"a new run folder (it holds {', '.join(used)}: pass --resume to continue it)"
            )
        return None
    start = newest_checkpoint(run_dir)
    print(f"resume: {f'from {start}' if start else f'no checkpoint in {run_dir}; starting fresh'}", file=sys.stderr)
    return start


def check_same_config(run_dir: Path, config: TrainConfig, env: BatchVecEnv) -> None:
    """A resumed run keeps the config it was started with: FieldError naming the first setting that differs."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        return
    saved = yaml.safe_load(path.read_text()) or {}
    now = {"train": _plain(dataclasses.asdict(config)), "task_config": _plain(config_to_dict(env.task.config))}
    for section, values in now.items():
        before = saved.get(section) or {}
        for key, value in _flat(values).items():
            old = _flat(before).get(key)
            if section == "train" and key.split(".")[0] in RESUME_MAY_CHANGE:
                continue
            if old != value:
                raise FieldError(
                    path, f"{section}.{key}", value, f"{old!r} as the run was started (a new --out to change it)"
                )


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b": leaf} of a nested dict."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    """Train, checkpoint, save model.zip and export policy.onnx into `config.out`; see the module docstring."""
    config.check()
    start = check_run_dir(config)
    torch.set_num_threads(max(1, config.torch_threads))
    device = resolve_device(config.device)
    run_dir = Path(config.out)
    batch = make_vec_env(config)
    if start is not None:
        check_same_config(run_dir, config, batch)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir / "config.yaml", config, batch)
    env = VecMonitor(batch)
    env.seed(config.seed)
    if start is not None:
        model = ALGOS[config.algo].load(start, env=env, device=device)
    else:
        model = build_model(config, env, device)
    done_before = model.num_timesteps
    remaining = max(0, config.steps - done_before)
    callbacks: list[BaseCallback] = [
        RewardTermLogger(),
        CheckpointCallback(max(1, config.checkpoint_every // config.n_envs), str(run_dir / "checkpoints"), "ckpt"),
    ]
    if progress:
        callbacks.append(ProgressBar(config.steps, done_before))
    began = time.perf_counter()
    model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=start is None, tb_log_name="train")
    wall = time.perf_counter() - began
    model.save(run_dir / "model.zip")
    report = export_policy(model, batch.contract, run_dir / "policy.onnx")
    (run_dir / "export.yaml").write_text(yaml.safe_dump(report.to_dict(), sort_keys=False))
    return TrainResult(
        run_dir=run_dir,
        policy_path=run_dir / "policy.onnx",
        steps=int(model.num_timesteps),
        wall_s=wall,
        steps_per_s=(model.num_timesteps - done_before) / max(wall, 1e-9),
        device=device,
        export=report,
    )


def write_config(path: Path, config: TrainConfig, env: BatchVecEnv) -> None:
    """Write the resolved training config, the task config and the contract summary as YAML."""
    data = {
        "train": _plain(dataclasses.asdict(config)),
        "task_config": config_to_dict(env.task.config),
        "robot": env.task.spec.name,
        "contract": {"obs_dim": env.contract.obs_dim, "action_dim": env.contract.action_dim},
        "torch": str(torch.__version__),
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
