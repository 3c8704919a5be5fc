"""Training configuration: the dataclasses `physai train` and sweeps are built from (no torch here).

Their defaults and field docstrings are the only source of the CLI's options and help
(physai.fields.add_config_arguments), and a run writes them to <out>/config.yaml.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from physai.errors import FieldError
from physai.values import parse_value


@dataclass
class PPOSettings:
    """PPO hyperparameters (SB3 names); rollout size per update = n_steps × n_envs."""

    n_steps: int = 64
    """Steps per world per rollout."""
    batch_size: int = 1024
    """Minibatch size."""
    n_epochs: int = 5
    """Passes over each rollout."""
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.0
    max_grad_norm: float = 1.0
    net_arch: tuple[int, ...] = (128, 128)
    """Hidden layers of actor and critic."""
    log_std_init: float = -1.0
    """Initial log std of the Gaussian policy (small: joint targets near the default pose)."""


@dataclass
class SACSettings:
    """SAC hyperparameters (SB3 names)."""

    buffer_size: int = 1_000_000
    batch_size: int = 256
    learning_rate: float = 3e-4
    learning_starts: int = 5_000
    gamma: float = 0.99
    train_freq: int = 1
    gradient_steps: int = 1
    net_arch: tuple[int, ...] = (256, 256)


@dataclass
class TrainConfig:
    """One training run; written to <out>/config.yaml with the resolved task config."""

    task: str = "physai/Balance-v0"
    """Registered env id."""
    robot: str | None = None
    """Robot (None: the task's default)."""
    algo: str = "ppo"
    """"ppo" or "sac"."""
    steps: int = 1_000_000
    """Total environment steps (all worlds together)."""
    n_envs: int = 32
    """Worlds stepped together in one BatchSim."""
    device: str = "auto"
    """torch device: "auto" (cuda when available), "cpu" or "cuda"."""
    seed: int = 0
    """Seed of the algorithm and of world i (seed + i)."""
    out: str = "runs/run"
    """Run folder."""
    resume: bool = False
    """Continue from the newest model.zip / checkpoint in `out`."""
    sim_threads: int = 0
    """MuJoCo threads (0: all CPUs)."""
    torch_threads: int = 1
    """torch.set_num_threads during training (small MLPs gain nothing from more on a few cores)."""
    checkpoint_every: int = 200_000
    """Save a checkpoint every this many environment steps."""
    task_config: str = ""
    """Task YAML: a name under sim_envs/tasks (e.g. walk_g1) or a path; empty: the task's own (walk, balance…)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Nested overrides of the task YAML (e.g. {"push": {"enabled": False}})."""
    ppo: PPOSettings = field(default_factory=PPOSettings)
    sac: SACSettings = field(default_factory=SACSettings)

    def check(self) -> None:
        """FieldError naming the first setting no run can use (before any world is built or file written)."""
        for name in ("steps", "n_envs", "checkpoint_every", "torch_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FieldError("", name, value, "a whole number ≥ 1")
        if not isinstance(self.sim_threads, int) or self.sim_threads < 0:
            raise FieldError("", "sim_threads", self.sim_threads, "a whole number ≥ 0 (0: all CPUs)")
        if self.algo not in ("ppo", "sac"):
            raise FieldError("", "algo", self.algo, "ppo or sac")
        settings = getattr(self, self.algo)
        for f in dataclasses.fields(settings):
            value = getattr(settings, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < (0 if "starts" in f.name else 1):
                raise FieldError("", f"{self.algo}.{f.name}", value, "a whole number ≥ 1")
        rollout = self.n_envs * self.ppo.n_steps
        if self.algo == "ppo" and self.steps < rollout:
            raise FieldError(
                "", "steps", self.steps,
                f"at least one rollout, n_envs × ppo.n_steps = {self.n_envs} × {self.ppo.n_steps} = {rollout:,} "
                "(raise steps or lower n_envs)",
            )  # fmt: skip


def set_field(config: Any, dotted: str, raw: str) -> None:
    """Set `a.b.c=value` on a (nested) dataclass from the command line; the value is parsed as YAML."""
    *parents, name = dotted.split(".")
    target = config
    for part in parents:
        target = getattr(target, part)
    if not dataclasses.is_dataclass(target) or name not in {f.name for f in dataclasses.fields(target)}:
        raise ValueError(f"unknown setting {dotted!r}")
    value = parse_value(raw)
    current = getattr(target, name)
    if isinstance(current, tuple):
        value = tuple(value if isinstance(value, list) else [value])
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            raise FieldError("", dotted, raw, "layer sizes, e.g. [256,128]")
    elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif (isinstance(current, (int, float)) and not isinstance(current, bool)) and (
        isinstance(value, bool) or not isinstance(value, type(current))
    ):
        raise FieldError("", dotted, raw, "a whole number" if isinstance(current, int) else "a number")
    setattr(target, name, value)
