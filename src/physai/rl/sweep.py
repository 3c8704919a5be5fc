"""`physai sweep`: a grid of training runs (seeds × settings) on Ray Tune, each trained, evaluated and ranked.

    config = SweepConfig(task="physai/Reach-v0", seeds=parse_seeds("0-3"), steps=200_000,
                         grid=parse_grid(["ppo.learning_rate=3e-4,1e-3", "overrides.push.enabled=true,false"]),
                         metric="success_rate", name="reach_lr")
    result = run_sweep(config)          # runs/sweep_reach_lr/{trial_000,…, results.csv, results.json, tune/}
    print(result.table()); result.best["policy"]

A trial is one `train()` run (its own run folder `<sweep>/trial_NNN`, NNN = position of the trial in
seeds × grid order) followed by `evaluate()` of its policy.onnx on the same episodes for every trial
(`eval_seed`, `eval_overrides`), so trials are compared under equal conditions. Grid keys are dotted
TrainConfig settings (`steps`, `ppo.learning_rate`, …) or `overrides.<task YAML key>` for the task config.

Ray: without `ray_address` a local Ray is started for the sweep and shut down after it, bound to loopback
(DESIGN.md runtime rules; no dashboard, no usage stats) — every Ray server listens on 127.0.0.1 only.
With an address ("auto", "ray://…", "host:port") the sweep connects to that cluster; its run folders and
`<sweep>/tune` must then be on storage every node shares. Ray Tune keeps its own records (per-trial
result.json, progress.csv, TensorBoard) under `<sweep>/tune`; Ray's session logs go to its temp dir (/tmp/ray).
"""

from __future__ import annotations

import copy
import itertools
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from physai.errors import FieldError
from physai.rl.config import TrainConfig
from physai.rl.ray_session import ray_session
from physai.rl.sweep_grid import (
    RESERVED_KEYS,
    apply_setting,
    canonical_key,
    combo_key,
    parse_grid,
    parse_seeds,
    trial_name,
)
from physai.rl.sweep_results import ROW_KEYS, SweepResult, rank_key, write_results

__all__ = [
    "RESERVED_KEYS",
    "SweepConfig",
    "SweepResult",
    "check_config",
    "parse_grid",
    "parse_seeds",
    "run_sweep",
    "trial_configs",
]

METRICS_MAX = ("mean_return", "success_rate", "mean_episode_seconds")
"""Eval metrics ranked best-first by default when larger."""
METRICS_MIN = ("fall_rate", "std_return", "lin_vel_error_m_s", "yaw_rate_error_rad_s")
"""Eval metrics ranked best-first by default when smaller."""
METRICS = METRICS_MAX + METRICS_MIN
"""The scalar EvalReport fields a sweep can rank by (success_rate: Reach only; lin_vel_error_m_s, yaw_rate_error_rad_s: Walk)."""


@dataclass
class SweepConfig:
    """A sweep: every seed × every combination of the grid, each trained and evaluated once."""

    task: str = "physai/Balance-v0"
    """Registered env id."""
    robot: str | None = None
    """Robot (None: the task's default)."""
    seeds: list[int] = field(default_factory=lambda: [0])
    """Training seeds; each grid combination is trained once per seed (see `parse_seeds`)."""
    grid: dict[str, list[Any]] = field(default_factory=dict)
    """Dotted setting → values to try (see `parse_grid`): TrainConfig fields (`steps`, `ppo.learning_rate`, …)
    or `overrides.<key>` for the task YAML (e.g. `overrides.push.enabled`)."""
    algo: str = "ppo"
    """"ppo" or "sac"."""
    steps: int = 1_000_000
    """Environment steps per trial."""
    n_envs: int = 32
    """Worlds per trial."""
    device: str = "auto"
    """torch device of each trial: "auto" (cuda when the trial gets a GPU, else cpu), "cpu" or "cuda"."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Fixed dotted TrainConfig settings for every trial, e.g. {"ppo.n_steps": 32, "checkpoint_every": 10**9}."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Nested task YAML overrides for every trial's training (grid `overrides.*` keys go on top)."""
    eval_episodes: int = 10
    """Evaluation episodes per trial."""
    eval_seed: int = 10_000
    """Seed of evaluation episode 0, the same for every trial (kept apart from the training seeds)."""
    eval_overrides: dict[str, Any] = field(default_factory=dict)
    """Nested task YAML overrides for the evaluation (not the trial's training overrides: equal conditions)."""
    metric: str = "mean_return"
    """EvalReport field trials are ranked by: mean_return, success_rate (Reach), fall_rate, …"""
    mode: str | None = None
    """"max" or "min"; None: "min" for fall_rate / std_return / vel_tracking_error_mps, else "max"."""
    name: str = "default"
    """Sweep name; the folder is `runs/sweep_<name>` unless `out` is given."""
    out: str | None = None
    """Sweep folder (None: runs/sweep_<name>); must not hold an earlier sweep."""
    ray_address: str | None = None
    """None: start a local Ray bound to loopback for this sweep; "auto" or an address: connect to that cluster."""
    num_cpus: int | None = None
    """CPUs of the local Ray (None: os.cpu_count()); ignored when connecting to a cluster."""
    cpus_per_trial: int = 1
    """CPUs reserved per trial; also the trial's MuJoCo threads (sim_threads)."""
    gpus_per_trial: float | None = None
    """GPUs per trial (None: 1 when the cluster has GPUs and device is auto/cuda, else 0)."""
    max_concurrent_trials: int | None = None
    """Cap on trials running at once (None: as many as the resources allow)."""
    verbose: int = 1
    """0: silent; 1: a progress bar over the trials and the final table; 2: Tune's own progress and output."""

    @property
    def folder(self) -> Path:
        """The sweep folder (absolute)."""
        return Path(self.out or Path("runs") / f"sweep_{self.name}").resolve()

    @property
    def resolved_mode(self) -> str:
        """`mode`, or the default for `metric`."""
        return self.mode or ("min" if self.metric in METRICS_MIN else "max")


def base_train_config(config: SweepConfig) -> TrainConfig:
    """The TrainConfig every trial starts from (before seed, grid values and run folder)."""
    base = TrainConfig(
        task=config.task,
        robot=config.robot,
        algo=config.algo,
        steps=config.steps,
        n_envs=config.n_envs,
        device=config.device,
        torch_threads=1,
        overrides=copy.deepcopy(config.overrides),
        sim_threads=config.cpus_per_trial,
    )
    for key, value in config.settings.items():
        apply_setting(base, key, value)
    return base


def trial_configs(config: SweepConfig) -> list[TrainConfig]:
    """The TrainConfig of every trial, in trial order (seeds × grid, the last grid key varying fastest)."""
    base = base_train_config(config)
    folder = config.folder
    out = []
    for index, (seed, *values) in enumerate(itertools.product(config.seeds, *config.grid.values())):
        trial = copy.deepcopy(base)
        trial.seed = seed
        for key, value in zip(config.grid, values, strict=True):
            try:
                apply_setting(trial, key, value)
            except FieldError as err:  # noqa: PERF203 (a few trials, and it ends the loop)
                raise ValueError(f"--grid {key}: the value {value!r}; expected {err.expected}") from None
        trial.out = str(folder / trial_name(index))
        out.append(trial)
    return out


def check_config(config: SweepConfig) -> None:
    """Refuse a sweep that cannot run, before any Ray or training starts (bad keys, values, task overrides)."""
    from physai.envs import TASK_TYPES
    from physai.envs.config import load_task_config

    if config.task not in TASK_TYPES:
        raise ValueError(f"task is {config.task!r}; expected one of {', '.join(TASK_TYPES)}")
    if not config.seeds or len(set(config.seeds)) != len(config.seeds):
        raise ValueError(f"seeds are {config.seeds!r}; expected distinct integers")
    for key, values in config.grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid {key}: expected a non-empty list of values, got {values!r}")
        if len({canonical_key(v) for v in values}) != len(values):
            raise ValueError(f"grid {key}: a value appears twice in {values!r}")
    if config.resolved_mode not in ("max", "min"):
        raise ValueError(f"mode is {config.mode!r}; expected max or min")
    if config.metric not in METRICS:
        raise ValueError(f"metric is {config.metric!r}; expected one of {', '.join(METRICS)}")
    if config.eval_episodes < 1 or config.cpus_per_trial < 1:
        raise ValueError("eval_episodes and cpus_per_trial must be ≥ 1")
    if config.gpus_per_trial is not None and config.gpus_per_trial < 0:
        raise ValueError(f"gpus_per_trial is {config.gpus_per_trial}; expected ≥ 0")
    task_type = TASK_TYPES[config.task]
    checked: set[str] = set()
    for trial in trial_configs(config):  # also checks every key and value with set_field
        trial.check()
        overrides_key = canonical_key(trial.overrides)
        if overrides_key not in checked:
            load_task_config(task_type.config_type, task_type.default_config, trial.overrides or None)
            checked.add(overrides_key)
    load_task_config(task_type.config_type, task_type.default_config, config.eval_overrides or None)
    folder = config.folder
    if (folder / "results.json").exists() or any(folder.glob("trial_*")):
        raise FileExistsError(f"{folder} already holds a sweep; choose another name/out or remove it")


@dataclass(frozen=True)
class _TrialSpec:
    """What every trial needs besides its Tune config (shipped to the workers once)."""

    base: TrainConfig
    grid_keys: tuple[str, ...]
    index: dict[str, int]
    """combo_key(seed, values) → trial number."""
    folder: str
    device: str
    """Device of every trial ("cpu", "cuda", "cuda:N"), resolved against the trial's GPUs."""
    eval_episodes: int
    eval_seed: int
    eval_overrides: dict[str, Any]
    metric: str


def _trial_progress(total: int) -> Any:
    """A Tune callback drawing one tqdm bar over the trials (done / failed), instead of Tune's tables."""
    from ray import tune
    from tqdm import tqdm

    class TrialProgress(tune.Callback):
        def __init__(self) -> None:
            self.bar = tqdm(total=total, desc="sweep", unit="trial")
            self.failed = 0

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.bar.update()

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.failed += 1
            self.bar.set_postfix(failed=self.failed)
            self.bar.update()

        def on_experiment_end(self, trials: list, **info: Any) -> None:
            self.bar.close()

    return TrialProgress()


def run_sweep(config: SweepConfig) -> SweepResult:
    """Run every trial of `config` on Ray Tune, rank them and write results.csv / results.json; see the module."""
    check_config(config)
    folder = config.folder
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with ray_session(config) as ray:
        from ray import tune

        address = str(ray.get_runtime_context().gcs_address)
        gpus = config.gpus_per_trial
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 and config.device != "cpu" else 0.0
        if config.device.startswith("cuda") and gpus <= 0:
            raise ValueError(f"device is {config.device!r} but trials get no GPU (gpus_per_trial / cluster)")
        device = config.device if config.device != "auto" else ("cuda" if gpus > 0 else "cpu")
        seeds_values = itertools.product(config.seeds, *config.grid.values())
        spec = _TrialSpec(
            base=base_train_config(config),
            grid_keys=tuple(config.grid),
            index={combo_key(seed, values): i for i, (seed, *values) in enumerate(seeds_values)},
            folder=str(folder),
            device=device,
            eval_episodes=config.eval_episodes,
            eval_seed=config.eval_seed,
            eval_overrides=copy.deepcopy(config.eval_overrides),
            metric=config.metric,
        )
        param_space = {"seed": tune.grid_search(list(config.seeds))}
        param_space.update({key: tune.grid_search(list(values)) for key, values in config.grid.items()})
        namer = _TrialNamer(spec.grid_keys, spec.index)
        trainable = tune.with_resources(
            tune.with_parameters(run_trial, spec=spec), {"cpu": config.cpus_per_trial, "gpu": gpus}
        )
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=tune.TuneConfig(
                metric=config.metric,
                mode=config.resolved_mode,
                max_concurrent_trials=config.max_concurrent_trials,
                trial_name_creator=namer,
                trial_dirname_creator=namer,
            ),
            run_config=tune.RunConfig(
                name="tune",
                storage_path=str(folder),
                verbose=0 if config.verbose < 2 else min(config.verbose, 3),
                callbacks=[_trial_progress(len(spec.index))] if config.verbose == 1 else None,
                failure_config=tune.FailureConfig(max_failures=0),
            ),
        )
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            grid = tuner.fit()
        finally:  # Ray Tune installs its own SIGINT handler and leaves it behind
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        rows, errors = [], []
        for result in grid:
            trial_config = dict(result.config or {})
            index = spec.index[combo_key(trial_config["seed"], [trial_config[k] for k in spec.grid_keys])]
            head = {"trial": trial_name(index), "seed": trial_config["seed"]}
            head.update({key: trial_config[key] for key in spec.grid_keys})
            if result.error is not None or config.metric not in (result.metrics or {}):
                errors.append({**head, "error": str(result.error or "no metrics reported")})
                continue
            metrics = result.metrics
            rows.append({**head, **{key: metrics.get(key) for key in ROW_KEYS}})
    mode = config.resolved_mode  # ties (e.g. success_rate 0 everywhere) go to the higher mean_return, then trial order
    rows.sort(key=lambda row: (rank_key(row[config.metric], mode), rank_key(row["mean_return"], "max"), row["trial"]))
    rows = [{"rank": i + 1, **row} for i, row in enumerate(rows)]
    errors.sort(key=lambda error: error["trial"])
    result = SweepResult(
        folder=folder,
        metric=config.metric,
        mode=config.resolved_mode,
        grid_keys=list(config.grid),
        rows=rows,
        errors=errors,
        csv_path=folder / "results.csv",
        json_path=folder / "results.json",
        ray_address=address,
        wall_s=time.perf_counter() - began,
    )
    write_results(result, config)
    if config.verbose > 0:
        print(result.table())
    if not rows:
        raise RuntimeError(f"every trial of the sweep failed; first error:\n{errors[0]['error'] if errors else '?'}")
    return result


def run_trial(config: dict[str, Any], spec: _TrialSpec) -> None:
    """Tune trainable: train one trial into `<sweep>/trial_NNN`, evaluate its policy, report the metrics."""
    import ray
    from ray import tune

    from physai.rl.evaluate import evaluate
    from physai.rl.train import train

    values = [config[key] for key in spec.grid_keys]
    index = spec.index[combo_key(config["seed"], values)]
    train_config = copy.deepcopy(spec.base)
    train_config.seed = int(config["seed"])
    for key, value in zip(spec.grid_keys, values, strict=True):
        apply_setting(train_config, key, value)
    train_config.out = str(Path(spec.folder) / trial_name(index))
    train_config.device = spec.device
    trained = train(train_config, progress=False)
    report = evaluate(
        trained.policy_path,
        train_config.task,
        episodes=spec.eval_episodes,
        seed=spec.eval_seed,
        overrides=spec.eval_overrides or None,
        progress=False,  # Tune's table reports the trials
    )
    (trained.run_dir / "eval.json").write_text(report.to_json())
    value = getattr(report, spec.metric)
    if value is None or not math.isfinite(value):
        raise ValueError(f"metric {spec.metric} is {value!r} for {train_config.task}; choose another --metric")
    metrics: dict[str, Any] = {key: getattr(report, key) for key in METRICS if getattr(report, key) is not None}
    metrics.update(
        steps=trained.steps,
        train_s=round(trained.wall_s, 3),
        steps_per_s=round(trained.steps_per_s, 1),
        device=trained.device,
        node_ip=ray.util.get_node_ip_address(),
        run_dir=str(trained.run_dir),
        policy=str(trained.policy_path),
        tune_trial_id=tune.get_context().get_trial_id(),
    )
    tune.report(metrics)


class _TrialNamer:
    """Tune trial (and trial folder) names: trial_NNN, the number of the seed × grid combination."""

    def __init__(self, grid_keys: tuple[str, ...], index: dict[str, int]) -> None:
        self.grid_keys = grid_keys
        self.index = index

    def __call__(self, trial: Any) -> str:
        config = trial.config
        return trial_name(self.index[combo_key(config["seed"], [config[k] for k in self.grid_keys])])
