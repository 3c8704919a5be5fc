"""`physai bench driver`: the CAN driver loop at 1 kHz against the virtual motor bank, 12 and 29 motors.

Each configuration runs two processes inside one private network namespace (the virtual `datagram` CAN buses, one
multicast channel, never touch a real network): the virtual motor bank with its MuJoCo plant at the physics rate,
and the driver loop (CanActuatorBus + RateLoop at `rate_hz`, holding the default pose, one frame per motor per
tick); see `physai.bench.driver_worker`. Every configuration runs with realtime=False and realtime=True
(SCHED_FIFO, mlockall, 1 ns timer slack) for the driver loop; the plant always runs SCHED_OTHER. As in the bringups
(`loop_cpu:=auto`), with 3 or more CPUs the driver loop's thread runs alone on the last one and both processes'
other threads on the rest. The same run measures an empty RateLoop the same way ("bare"): the floor the machine's
timers and scheduler set for any loop's lateness, whatever its work.

Motor counts:
  12   testbed_biped with robot_descriptions/testbed_biped/hardware.yaml (6 MIT AK + 6 Robstride)
  29   unitree_g1 with robot_descriptions/unitree_g1/hardware.yaml (left side MIT AK10-9, right side and waist
       Robstride RS04, 11 buses of ≤ 3 motors; geared to cover each
       joint's effort and range)

Figures per configuration ("12.no_rt", "12.rt", "29.no_rt", "29.rt"):
  driver_tick_us       one tick = read_state + write_command, perf_counter_ns inside the loop: p50/p99/max
  driver_lateness_us   RateLoop wake-up lateness over every tick of the run: p50/p99/max
  misses, ticks        RateLoop deadlines missed / ticks run
  sched_fifo           what RateLoop got (rt_status["sched_fifo"])
  replies_per_tick     feedback frames decoded per tick (≈ motors when the plant keeps up); stale_ticks
  host_stalls, longest_stall_ms   gaps between ticks the driver's StallClock found were host stalls
  plant_lateness_p99_us, plant_misses, plant_sim_time_s   the bank's own loop and how far the plant got in
                       `seconds` of wall time: a bank that cannot answer every frame (it is Python too, and
                       handles each frame plus its own udp_multicast echo) shows here and in replies_per_tick,
                       and then the driver's read_state has fewer replies to decode than on a real bus
  bare.no_rt, bare.rt  an empty RateLoop at `rate_hz` for `seconds`: lateness p50/p99/max, misses
Ratios:
  tick_us_29_vs_12[_rt]             tick p50, 29 / 12 (no_rt; _rt with SCHED_FIFO)
  lateness_p99_rt_vs_no_rt_12/_29   lateness p99 with SCHED_FIFO / without
  lateness_p99_vs_bare_12/_29[_rt]  driver lateness p99 / the empty loop's, same mode
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from physai.bench.report import write_report
from physai.bringup.launcher import log_tail, private_netns, stop_process
from physai.bringup.sets import other_cpus, resolve_loop_cpu
from physai.paths import robot_descriptions_dir, scratch_dir

CHANNEL = "239.74.163.2"
"""Multicast group of the bench's virtual CAN buses (datagram, every bus on it), inside the namespace."""
MOTOR_COUNTS = (12, 29)
"""Configurations: 12 = testbed_biped, 29 = unitree_g1 (each with its shipped hardware.yaml)."""
MODES = (("no_rt", False), ("rt", True))
"""Driver loop without / with SCHED_FIFO."""
STARTUP_S = 30.0
"""Allowance for a worker's imports, model load and motor start-up (s)."""


class NamespaceError(RuntimeError):
    """The private network namespace for the udp_multicast bus could not be created (not root)."""


def _configuration(count: int, work: Path) -> dict[str, Any]:
    """Robot, hardware YAML path and label of a motor-count configuration."""
    if count == 12:
        robot = "testbed_biped"
        return {"robot": robot, "hardware": robot_descriptions_dir() / robot / "hardware.yaml", "label": "12 motors"}
    if count == 29:
        robot = "unitree_g1"
        return {
            "robot": robot,
            "hardware": robot_descriptions_dir() / robot / "hardware.yaml",
            "label": "29 motors (G1)",
        }
    raise ValueError(f"motor count {count}: expected one of {MOTOR_COUNTS}")


def run(
    seconds: float = 60.0,
    rate_hz: float = 1000.0,
    motor_counts: Sequence[int] = MOTOR_COUNTS,
    json_path: str | Path | None = None,
) -> dict:
    """Measure every configuration (motor count × rt mode) for `seconds` each; print and return the report.

    Raises:
        NamespaceError: The private network namespace could not be created (needs root / CAP_SYS_ADMIN).
        RuntimeError: A worker failed; the message carries its log tail.
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds={seconds!r}: expected a duration > 0")
    if not 100.0 <= rate_hz <= 5000.0:
        raise ValueError(f"rate_hz={rate_hz!r}: expected 100–5000")
    work = scratch_dir("bench-driver-")
    configs = {str(n): _configuration(n, work) for n in motor_counts}
    figures: dict[str, Any] = {}
    with ExitStack() as stack:
        try:
            prefix = stack.enter_context(private_netns())
        except RuntimeError as err:
            raise NamespaceError(
                f"physai bench driver needs a private network namespace for its udp_multicast bus and could not "
                f"create one ({err}); run it as root (CAP_SYS_ADMIN)"
            ) from err
        cpu = resolve_loop_cpu("auto")
        others = other_cpus(cpu)
        for key, config in configs.items():
            for mode, realtime in MODES:
                folder = work / f"{key}_{mode}"
                folder.mkdir()
                driver, bank = _measure(prefix, folder, config, seconds, rate_hz, realtime, cpu, others)
                figures[f"{key}.{mode}"] = _figures(config, driver, bank)
        for mode, realtime in MODES:
            figures[f"bare.{mode}"] = _bare(prefix, work / f"bare_{mode}", seconds, rate_hz, realtime, cpu, others)
    ratios = _ratios(figures)
    _print_table(figures)
    meta = {"rate_hz": rate_hz, "seconds": seconds, "cpus": os.cpu_count(), "loop_cpu": cpu, "logs": str(work)}
    return write_report("driver", figures, ratios, json_path, **meta)


def _bare(
    prefix: list[str], folder: Path, seconds: float, rate_hz: float, realtime: bool, cpu: int, others: tuple[int, ...]
) -> dict[str, Any]:
    """The empty loop's figures, measured in a worker like the driver's."""
    folder.mkdir()
    cmd = ["bare", "--seconds", str(seconds), "--rate-hz", str(rate_hz), "--out", str(folder / "bare.json")]
    cmd += [*(["--realtime"] if realtime else []), *(["--cpu", str(cpu)] if cpu >= 0 else [])]
    proc = _start(prefix, cmd, folder / "bare.log", others)
    if proc.wait(timeout=seconds + STARTUP_S) != 0:
        raise RuntimeError(f"bare loop worker exited with code {proc.returncode}:\n{log_tail(folder, 'bare')}")
    result = json.loads((folder / "bare.json").read_text())
    lateness = {k: round(v, 1) for k, v in result["lateness_us"].items()}
    return {"lateness_us": lateness, "misses": result["misses"], "ticks": result["ticks"], **_rt_fields(result["rt"])}


def _rt_fields(rt_status: dict[str, str]) -> dict[str, str]:
    return {"sched_fifo": rt_status.get("sched_fifo", "?"), "affinity": rt_status.get("affinity", "?")}


def _measure(
    prefix: list[str],
    folder: Path,
    config: dict[str, Any],
    seconds: float,
    rate_hz: float,
    realtime: bool,
    cpu: int = -1,
    others: tuple[int, ...] = (),
) -> tuple[dict, dict]:
    """Start the bank, run the driver to completion, stop the bank; both workers' JSON results.

    With `cpu` ≥ 0 the driver's loop thread runs on it and every other thread of both workers on `others`.
    """
    common = ["--robot", config["robot"], "--hardware", str(config["hardware"]), "--channel", CHANNEL]
    ready = folder / "bank.ready"
    bank_cmd = ["bank", *common, "--ready", str(ready), "--out", str(folder / "bank.json")]
    bank_cmd += ["--max-seconds", str(seconds + 4 * STARTUP_S)]
    driver_cmd = ["driver", *common, "--seconds", str(seconds), "--rate-hz", str(rate_hz)]
    driver_cmd += ["--out", str(folder / "driver.json"), *(["--realtime"] if realtime else [])]
    driver_cmd += ["--cpu", str(cpu)] if cpu >= 0 else []
    bank = _start(prefix, bank_cmd, folder / "bank.log", others)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not ready.exists():
            if bank.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"virtual motor bank did not come up:\n{log_tail(folder, 'bank')}")
            time.sleep(0.05)
        driver = _start(prefix, driver_cmd, folder / "driver.log", others)
        try:
            code = driver.wait(timeout=seconds + STARTUP_S)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()
            log = log_tail(folder, "driver")
            raise RuntimeError(f"driver worker ran past {seconds + STARTUP_S:.0f} s:\n{log}") from None
        if code != 0:
            raise RuntimeError(f"driver worker exited with code {code}:\n{log_tail(folder, 'driver')}")
    finally:
        stop_process(bank, signal.SIGTERM, 10.0)  # the bank writes its JSON on the way out
    if bank.returncode != 0:
        raise RuntimeError(f"virtual motor bank exited with code {bank.returncode}:\n{log_tail(folder, 'bank')}")
    return json.loads((folder / "driver.json").read_text()), json.loads((folder / "bank.json").read_text())


def _start(prefix: list[str], args: list[str], log: Path, cpus: tuple[int, ...] = ()) -> subprocess.Popen:
    """A worker process inside the namespace (nsenter prefix), output to `log`, on `cpus` (() = any)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "physai.bench.driver_worker", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,  # the caller's session (scheduler autogroup), as physai launch's nodes
        )
    if cpus:  # before the interpreter starts any thread (a loop thread then moves itself to --cpu)
        os.sched_setaffinity(proc.pid, cpus)
    return proc


def _figures(config: dict[str, Any], driver: dict, bank: dict) -> dict[str, Any]:
    """The reported figures of one configuration (µs rounded to 0.1)."""

    def pct(values: dict[str, float]) -> dict[str, float]:
        return {k: round(values[k], 1) for k in ("p50", "p99", "max")}

    ticks = max(1, driver["ticks"])
    return {
        "label": config["label"],
        "robot": driver["robot"],
        "motors": driver["motors"],
        "driver_tick_us": pct(driver["driver_tick_us"]),
        "driver_lateness_us": pct(driver["driver_lateness_us"]),
        "misses": driver["misses"],
        "ticks": driver["ticks"],
        **_rt_fields(driver["rt_status"]),
        "replies_per_tick": round(driver["bus"].get("replies", 0) / ticks, 2),
        "stale_ticks": driver["stale_ticks"],
        "host_stalls": driver["host_stalls"],
        "longest_stall_ms": round(driver["longest_stall_ms"], 1),
        "plant_lateness_p99_us": round(bank["loop"]["lateness_us"]["p99"], 1),
        "plant_misses": bank["loop"]["misses"],
        "plant_sim_time_s": round(bank["sim_time_s"], 2),
    }


def _ratios(figures: dict[str, Any]) -> dict[str, float]:
    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else math.nan

    out = {}
    for suffix, mode in (("", "no_rt"), ("_rt", "rt")):
        if f"12.{mode}" in figures and f"29.{mode}" in figures:
            out[f"tick_us_29_vs_12{suffix}"] = ratio(
                figures[f"29.{mode}"]["driver_tick_us"]["p50"], figures[f"12.{mode}"]["driver_tick_us"]["p50"]
            )
    for key in ("12", "29"):
        for suffix, mode in (("", "no_rt"), ("_rt", "rt")):
            if f"{key}.{mode}" in figures and f"bare.{mode}" in figures:
                out[f"lateness_p99_vs_bare_{key}{suffix}"] = ratio(
                    figures[f"{key}.{mode}"]["driver_lateness_us"]["p99"], figures[f"bare.{mode}"]["lateness_us"]["p99"]
                )
        if f"{key}.rt" in figures and f"{key}.no_rt" in figures:
            out[f"lateness_p99_rt_vs_no_rt_{key}"] = ratio(
                figures[f"{key}.rt"]["driver_lateness_us"]["p99"], figures[f"{key}.no_rt"]["driver_lateness_us"]["p99"]
            )
    return out


def _print_table(figures: dict[str, Any]) -> None:
    header = (
        "config",
        "motors",
        "tick p50/p99/max µs",
        "lateness p50/p99/max µs",
        "misses",
        "ticks",
        "replies/tick",
        "plant sim s",
        "sched_fifo",
    )
    rows = [
        (
            key,
            str(f["motors"]),
            "/".join(f"{f['driver_tick_us'][k]:.1f}" for k in ("p50", "p99", "max")),
            "/".join(f"{f['driver_lateness_us'][k]:.1f}" for k in ("p50", "p99", "max")),
            str(f["misses"]),
            str(f["ticks"]),
            f"{f['replies_per_tick']:.1f}",
            f"{f['plant_sim_time_s']:.2f}",
            f["sched_fifo"],
        )
        for key, f in figures.items()
        if not key.startswith("bare.")
    ]
    rows += [
        (
            key,
            "0",
            "-",
            "/".join(f"{f['lateness_us'][k]:.1f}" for k in ("p50", "p99", "max")),
            str(f["misses"]),
            str(f["ticks"]),
            "-",
            "-",
            f["sched_fifo"],
        )
        for key, f in figures.items()
        if key.startswith("bare.")
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
