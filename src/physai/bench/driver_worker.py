"""The two processes of `physai bench driver`: the virtual motor bank (plant) and the driver loop.

    python -m physai.bench.driver_worker bank   --robot R --hardware H.yaml --channel 239.74.163.2 --ready F --out F
    python -m physai.bench.driver_worker driver --robot R --hardware H.yaml --channel 239.74.163.2 --seconds 10 \
        --rate-hz 1000 [--realtime] [--cpu N] --out F
    python -m physai.bench.driver_worker bare --seconds 10 --rate-hz 1000 [--realtime] [--cpu N] --out F

Both talk over the virtual `datagram` CAN buses (physai.drivers.link) and must only ever run inside a private network namespace
(`physai.bringup.launcher.private_netns`); `physai.bench.driver` starts them there with the nsenter prefix.

bank: VirtualMotorBank + Simulator stepped by a RateLoop at the physics rate (SCHED_OTHER, so the plant never
competes with the driver under test for an RT priority); the plant is held still until every motor is enabled
and commanded (the gantry of motor_sim_node). Touches `--ready` once its bus is open; runs until SIGINT/SIGTERM
(or `--max-seconds`), then writes its counters and loop stats as JSON to `--out`.

driver: CanActuatorBus + RateLoop at `--rate-hz`. Start-up as driver_node: loop.start() (SCHED_FIFO, mlockall,
gc.freeze), enable, wait for every motor's first reply, resync. Then, for `--seconds` of wall time, each tick:
wait, read_state, write_command (a hold of the default pose, one frame per motor); the tick (read + write) is
timed with perf_counter_ns. A tick that overruns makes the loop skip deadlines (counted as misses), so
ticks + skipped deadlines ≈ seconds × rate.
Writes tick-time percentiles, the RateLoop's lateness stats over the whole run, misses, rt_status and bus
counters as JSON to `--out`. `--cpu` pins the loop thread to that CPU (the bench keeps the bank off it).

bare: the same RateLoop with no work at all, for the same time: the floor this machine's timers and scheduler
set for any loop's lateness. None of the three imports ROS.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

STARTUP_TIMEOUT_S = 5.0
"""Every motor must answer within this after enabling (s)."""


def _percentiles_us(values_ns: np.ndarray) -> dict[str, float]:
    """p50 / p99 / max / mean of durations given in ns, in µs (NaN when there are none)."""
    if values_ns.size == 0:
        return dict.fromkeys(("p50", "p99", "max", "mean"), math.nan)
    us = values_ns / 1e3
    p50, p99 = np.percentile(us, [50.0, 99.0])
    return {"p50": float(p50), "p99": float(p99), "max": float(us.max()), "mean": float(us.mean())}


def _write_json(path: str, payload: dict[str, Any]) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)  # the bench never reads a half-written file


def run_bank(robot: str, hardware: str, channel: str, ready: str, out: str, max_seconds: float) -> None:
    """The plant: answer frames and step the simulator at its physics rate until signalled."""
    from physai.control import RateLoop
    from physai.drivers.config import HardwareConfig
    from physai.drivers.link import DATAGRAM_INTERFACE, open_link
    from physai.hil.virtual_motors import VirtualMotorBank
    from physai.sim import Simulator

    stop = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    sim = Simulator(robot)
    sim.reset(seed=0)
    config = HardwareConfig.load(hardware, sim.spec)
    link = open_link(config, interface=DATAGRAM_INTERFACE, channel=channel)
    bank = VirtualMotorBank(config, sim, link)
    loop = RateLoop(sim.physics_dt, realtime=False, name="plant_loop", window=100_000)
    released = False
    end = time.monotonic() + max_seconds
    try:
        loop.start()
        Path(ready).touch()
        while not stop["signal"] and time.monotonic() < end:
            loop.wait()
            bank.process_frames()
            if not released:
                released = all(m.applying_torque for m in bank.motor_states().values())
                if not released:
                    continue
            bank.step(1)
    finally:
        loop.stop()
        stats = loop.stats()
        link.close()
    counters = {k: v for k, v in bank.stats.items() if not isinstance(v, dict)}
    _write_json(
        out,
        {
            "motors": len(config.motors),
            "released": released,
            "sim_time_s": float(sim.data.time),
            "loop": {
                "ticks": stats.ticks,
                "misses": stats.misses,
                "lateness_us": stats.lateness_us(),
            },
            "counters": counters,
        },
    )


def run_bare(seconds: float, rate_hz: float, realtime: bool, cpu: int | None, out: str) -> None:
    """An empty RateLoop for `seconds`: lateness over every tick."""
    from physai.bench.report import empty_loop

    stats = empty_loop(1.0 / rate_hz, seconds, realtime=realtime, cpu=cpu)
    _write_json(
        out, {"ticks": stats.ticks, "misses": stats.misses, "lateness_us": stats.lateness_us(), "rt": stats.rt_status}
    )


def run_driver(
    robot: str,
    hardware: str,
    channel: str,
    seconds: float,
    rate_hz: float,
    realtime: bool,
    out: str,
    cpu: int | None = None,
) -> None:
    """The driver loop: hold the default pose over CAN for `seconds`, timing every tick."""
    from physai.control import RateLoop
    from physai.drivers.can_bus import CanActuatorBus
    from physai.drivers.config import HardwareConfig
    from physai.drivers.link import DATAGRAM_INTERFACE, open_link
    from physai.robot import RobotSpec
    from physai.robot.command import JointCommand

    spec = RobotSpec.load(robot)
    config = HardwareConfig.load(hardware, spec)
    bus = CanActuatorBus(config, open_link(config, interface=DATAGRAM_INTERFACE, channel=channel))
    n_ticks = max(1, math.ceil(seconds * rate_hz))  # the most ticks `seconds` can hold
    # the lateness ring covers the whole run, so p99/max are over every tick, not the last 10 000
    loop = RateLoop(1.0 / rate_hz, realtime=realtime, cpu=cpu, name="driver_loop", window=n_ticks)
    hold = JointCommand.hold(spec)
    tick_ns = np.zeros(n_ticks, dtype=np.int64)
    stale_ticks = 0
    try:
        loop.start()  # RT settings and gc.freeze before the motors come up, as driver_node does
        _start_motors(bus, spec.kd)
        loop.resync()
        end_ns = loop.start_ns + round(seconds * 1e9)  # `seconds` of wall time: overruns skip deadlines
        clock = time.perf_counter_ns
        k = 0
        while loop.next_deadline_ns <= end_ns:
            loop.wait()
            t0 = clock()
            now = loop.tick_time_s  # the StallClock, as driver_node's ages
            feedback = bus.read_state(now)
            bus.write_command(hold, now)
            tick_ns[k] = clock() - t0
            k += 1
            stale_ticks += bool(feedback.stale.any())
        stats = loop.stats()
        tick_ns = tick_ns[:k]
    finally:
        loop.stop()
        bus.disable()
        bus.close()
    counters = {k: int(v) for k, v in bus.counters.items()}
    _write_json(
        out,
        {
            "robot": spec.name,
            "motors": len(config.motors),
            "rate_hz": rate_hz,
            "seconds": seconds,
            "realtime": realtime,
            "ticks": stats.ticks,
            "misses": stats.misses,
            "driver_tick_us": _percentiles_us(tick_ns),
            "driver_lateness_us": stats.lateness_us(),
            "lateness_window": stats.window,
            "stale_ticks": stale_ticks,
            "host_stalls": stats.host_stalls,
            "longest_stall_ms": stats.longest_stall_ms,
            "rt_status": stats.rt_status,
            "bus": counters,
        },
    )


def _start_motors(bus: Any, kd: np.ndarray) -> None:
    """Enable every motor and wait until each has answered once (damping frames make MIT drives reply)."""
    bus.enable()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        now = time.monotonic()
        feedback = bus.read_state(now)
        if np.isfinite(feedback.age_s).all():
            return
        if now > deadline:
            missing = [
                m.joint for m, age in zip(bus.config.motors, feedback.age_s, strict=True) if not np.isfinite(age)
            ]
            raise RuntimeError(f"no reply within {STARTUP_TIMEOUT_S} s from motors of {', '.join(missing)}")
        bus.estop(kd, now)
        time.sleep(0.01)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `bank`, `driver` or `bare` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m physai.bench.driver_worker")
    sub = parser.add_subparsers(dest="role", required=True)
    for role in ("bank", "driver", "bare"):
        p = sub.add_parser(role)
        p.add_argument("--out", required=True, help="JSON written at the end")
        if role == "bare":
            continue
        p.add_argument("--robot", required=True)
        p.add_argument("--hardware", required=True, help="hardware YAML")
        p.add_argument(
            "--channel", required=True, help="multicast group of the virtual datagram buses (all buses on it)"
        )
    bank = sub.choices["bank"]
    bank.add_argument("--ready", required=True, help="file touched once the bus is open")
    bank.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long even unsignalled")
    for role in ("driver", "bare"):
        p = sub.choices[role]
        p.add_argument("--seconds", type=float, required=True)
        p.add_argument("--rate-hz", type=float, default=1000.0)
        p.add_argument("--realtime", action="store_true", help="SCHED_FIFO / mlockall for the loop")
        p.add_argument("--cpu", type=int, default=None, help="pin the loop thread to this CPU")
    args = parser.parse_args(argv)
    if args.role == "bank":
        run_bank(args.robot, args.hardware, args.channel, args.ready, args.out, args.max_seconds)
    elif args.role == "bare":
        run_bare(args.seconds, args.rate_hz, args.realtime, args.cpu, args.out)
    else:
        run_driver(
            args.robot, args.hardware, args.channel, args.seconds, args.rate_hz, args.realtime, args.out, args.cpu
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
