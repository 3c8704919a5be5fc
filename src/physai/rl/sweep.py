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
import csv
import dataclasses
import io
import itertools
import json
import math
import os
import re
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from physai.rl.train import TrainConfig, set_field
from physai.values import parse_value

METRICS_MAX = ("mean_return", "success_rate", "mean_episode_seconds")
"""Eval metrics ranked best-first by default when larger."""
METRICS_MIN = ("fall_rate", "std_return", "vel_tracking_error_mps")
"""Eval metrics ranked best-first by default when smaller."""
METRICS = METRICS_MAX + METRICS_MIN
"""The scalar EvalReport fields a sweep can rank by (success_rate: Reach only; vel_tracking_error_mps: Walk)."""
RESERVED_KEYS = ("seed", "out", "resume", "task")
"""TrainConfig fields a grid or the fixed settings may not set (the sweep owns them; seeds go in `seeds`)."""
LOOPBACK = "127.0.0.1"


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
    """0: silent; 1: Tune's progress and the final table; 2: more of Tune's output."""

    @property
    def folder(self) -> Path:
        """The sweep folder (absolute)."""
        return Path(self.out or Path("runs") / f"sweep_{self.name}").resolve()

    @property
    def resolved_mode(self) -> str:
        """`mode`, or the default for `metric`."""
        return self.mode or ("min" if self.metric in METRICS_MIN else "max")


@dataclass(frozen=True)
class SweepResult:
    """What `run_sweep` produced; `rows` are the finished trials ranked best-first by `metric`."""

    folder: Path
    metric: str
    mode: str
    grid_keys: list[str]
    rows: list[dict[str, Any]]
    """Per trial: rank, trial, seed, the grid values (by dotted key), the eval metrics, steps, train_s,
    steps_per_s, device, node_ip, run_dir, policy, tune_trial_id."""
    errors: list[dict[str, Any]]
    """Failed trials: trial, seed, grid values, error (text)."""
    csv_path: Path
    json_path: Path
    ray_address: str
    """GCS address of the Ray cluster the sweep ran on (127.0.0.1:PORT for a local Ray)."""
    wall_s: float

    @property
    def best(self) -> dict[str, Any]:
        """The best trial's row."""
        if not self.rows:
            raise ValueError("no trial finished")
        return self.rows[0]

    def table(self) -> str:
        """Fixed-width table of the ranked trials (and failures below it)."""
        metric_cols = [self.metric] + [m for m in ("mean_return", "fall_rate") if m != self.metric]
        columns = ["rank", "trial", "seed", *self.grid_keys, *metric_cols, "steps", "train_s", "policy"]
        lines = [[str(c) for c in columns]]
        lines += [[_cell(row.get(c)) for c in columns] for row in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
        text = [
            "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in lines
        ]
        text.insert(1, "  ".join("-" * width for width in widths))
        text += [f"FAILED {e['trial']} (seed {e['seed']}): {(e['error'] or '?').splitlines()[-1]}" for e in self.errors]
        return "\n".join(text)

    def __str__(self) -> str:
        return self.table()


def parse_seeds(text: str) -> list[int]:
    """Seeds from "0-3" (inclusive), "0,2,5" or a mix ("0-2,7"); duplicates refused."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"seeds {text!r}: {part!r} is not N or A-B (non-negative integers)")
        first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if last < first:
            raise ValueError(f"seeds {text!r}: range {part!r} runs backwards")
        seeds += range(first, last + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {text!r}: a seed appears twice")
    return seeds


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Grid from `KEY=V1,V2,…` items; values are YAML ("3e-4", "true", "[64,64]"), a YAML list per item.

    >>> parse_grid(["ppo.learning_rate=3e-4,1e-3", "overrides.push.enabled=true,false"])
    {'ppo.learning_rate': [0.0003, 0.001], 'overrides.push.enabled': [True, False]}
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ValueError(f"grid {item!r}: expected KEY=V1,V2,… e.g. ppo.learning_rate=3e-4,1e-3")
        if key in grid:
            raise ValueError(f"grid {item!r}: {key} is given twice")
        try:
            values = parse_value(f"[{raw}]")
        except yaml.YAMLError as err:
            raise ValueError(f"grid {item!r}: the values are not YAML ({str(err).splitlines()[0]})") from err
        grid[key] = values
    return grid


def apply_setting(config: TrainConfig, dotted: str, value: Any) -> None:
    """Set one dotted setting on `config`: `overrides.a.b` into the nested task overrides, else `set_field`."""
    head, _, rest = dotted.partition(".")
    if head == "overrides":
        if not rest:
            raise ValueError(f"setting {dotted!r}: expected overrides.<task YAML key>, e.g. overrides.push.enabled")
        overrides = copy.deepcopy(config.overrides)
        node = overrides
        *parents, leaf = rest.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"setting {dotted!r}: {part} is already set to a value, not a mapping")
            node = child
        node[leaf] = copy.deepcopy(value)
        config.overrides = overrides
        return
    if head in RESERVED_KEYS:
        raise ValueError(f"setting {dotted!r}: the sweep sets {head} (seeds: SweepConfig.seeds)")
    set_field(config, dotted, yaml.safe_dump(value))


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
            apply_setting(trial, key, value)
        trial.out = str(folder / _trial_name(index))
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
        if len({_key(v) for v in values}) != len(values):
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
    for trial in trial_configs(config):  # also checks every key with set_field
        if trial.algo not in ("ppo", "sac"):
            raise ValueError(f"algo is {trial.algo!r}; expected ppo or sac")
        overrides_key = _key(trial.overrides)
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
    """_combo_key(seed, values) → trial number."""
    folder: str
    device: str
    """Device of every trial ("cpu", "cuda", "cuda:N"), resolved against the trial's GPUs."""
    eval_episodes: int
    eval_seed: int
    eval_overrides: dict[str, Any]
    metric: str


def run_sweep(config: SweepConfig) -> SweepResult:
    """Run every trial of `config` on Ray Tune, rank them and write results.csv / results.json; see the module."""
    check_config(config)
    folder = config.folder
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with _ray_session(config) as ray:
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
            index={_combo_key(seed, values): i for i, (seed, *values) in enumerate(seeds_values)},
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
                verbose=min(max(config.verbose, 0), 3),
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
            index = spec.index[_combo_key(trial_config["seed"], [trial_config[k] for k in spec.grid_keys])]
            head = {"trial": _trial_name(index), "seed": trial_config["seed"]}
            head.update({key: trial_config[key] for key in spec.grid_keys})
            if result.error is not None or config.metric not in (result.metrics or {}):
                errors.append({**head, "error": str(result.error or "no metrics reported")})
                continue
            metrics = result.metrics
            rows.append({**head, **{key: metrics.get(key) for key in _ROW_KEYS}})
    mode = config.resolved_mode  # ties (e.g. success_rate 0 everywhere) go to the higher mean_return, then trial order
    rows.sort(key=lambda row: (_rank_key(row[config.metric], mode), _rank_key(row["mean_return"], "max"), row["trial"]))
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
    _write_results(result, config)
    if config.verbose > 0:
        print(result.table())
    if not rows:
        raise RuntimeError(f"every trial of the sweep failed; first error:\n{errors[0]['error'] if errors else '?'}")
    return result


_ROW_KEYS = (
    "mean_return",
    "std_return",
    "fall_rate",
    "success_rate",
    "vel_tracking_error_mps",
    "mean_episode_seconds",
    "steps",
    "train_s",
    "steps_per_s",
    "device",
    "node_ip",
    "run_dir",
    "policy",
    "tune_trial_id",
)


def run_trial(config: dict[str, Any], spec: _TrialSpec) -> None:
    """Tune trainable: train one trial into `<sweep>/trial_NNN`, evaluate its policy, report the metrics."""
    import ray
    from ray import tune

    from physai.rl.evaluate import evaluate
    from physai.rl.train import train

    values = [config[key] for key in spec.grid_keys]
    index = spec.index[_combo_key(config["seed"], values)]
    train_config = copy.deepcopy(spec.base)
    train_config.seed = int(config["seed"])
    for key, value in zip(spec.grid_keys, values, strict=True):
        apply_setting(train_config, key, value)
    train_config.out = str(Path(spec.folder) / _trial_name(index))
    train_config.device = spec.device
    trained = train(train_config, progress=False)
    report = evaluate(
        trained.policy_path,
        train_config.task,
        episodes=spec.eval_episodes,
        seed=spec.eval_seed,
        overrides=spec.eval_overrides or None,
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
        return _trial_name(self.index[_combo_key(config["seed"], [config[k] for k in self.grid_keys])])


@contextmanager
def _ray_session(config: SweepConfig) -> Iterator[Any]:
    """Ray for the sweep: a fresh local one bound to loopback (shut down after), or the given cluster."""
    if config.ray_address is not None:
        import ray

        if ray.is_initialized():
            raise RuntimeError("Ray is already initialised in this process; cannot connect to another cluster")
        ray.init(address=config.ray_address, log_to_driver=config.verbose > 1)
        try:
            yield ray
        finally:
            ray.shutdown()
        return
    # Loopback only: Ray maps _node_ip_address="127.0.0.1" to the host's routable IP and then serves on it
    # unless "cluster mode" is off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read by Ray at import and by every
    # process it spawns). No usage statistics leave the host.
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    saved_env = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    import ray
    from ray._private import ray_constants

    if ray.is_initialized():
        raise RuntimeError("Ray is already initialised in this process; a sweep starts its own local Ray")
    saved_cluster = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before the variable was set
    try:
        ray.init(
            num_cpus=config.num_cpus or os.cpu_count(),
            include_dashboard=False,
            _node_ip_address=LOOPBACK,
            log_to_driver=config.verbose > 1,
        )
        try:
            address = str(ray.get_runtime_context().gcs_address)
            if not address.startswith(f"{LOOPBACK}:"):
                raise RuntimeError(f"the local Ray serves on {address}, not on loopback; refusing to run the sweep")
            yield ray
        finally:
            ray.shutdown()
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_cluster
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _write_results(result: SweepResult, config: SweepConfig) -> None:
    table = result.rows + [{**error, "rank": None} for error in result.errors]
    columns: list[str] = []
    for row in table:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, tuple, dict)) else v for k, v in row.items()})
    result.csv_path.write_text(buffer.getvalue())
    data = {
        "metric": result.metric,
        "mode": result.mode,
        "rows": result.rows,
        "errors": result.errors,
        "wall_s": round(result.wall_s, 3),
        "ray_address": result.ray_address,
        "config": dataclasses.asdict(config),
    }
    result.json_path.write_text(json.dumps(_plain(data), indent=2, allow_nan=False))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _key(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True)


def _combo_key(seed: Any, values: Sequence[Any]) -> str:
    return _key([seed, list(values)])


def _trial_name(index: int) -> str:
    return f"trial_{index:03d}"


def _rank_key(value: Any, mode: str) -> tuple[int, float]:
    if value is None or not math.isfinite(value):
        return (1, 0.0)
    return (0, -value if mode == "max" else value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
