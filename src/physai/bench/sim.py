"""`physai bench sim`: Simulator and BatchSim throughput against a bare mj_step loop, in one run.

Figures (physics steps per second, medians over repeats):
  raw_mj_step_steps_per_s   `for _ in range(N): mujoco.mj_step(m, d)` on the same compiled model
  simulator_steps_per_s     Simulator in a control loop: apply(command), step(decimation), state()
  batch_steps_per_s         BatchSim (nsim worlds, `threads` threads), same loop, summed over worlds
Ratios:
  simulator_vs_raw_mj_step  simulator / raw           (target ≥ 0.9)
  batch_vs_2x_single        batch / (2 × simulator)   (target ≥ 0.85 with 2 threads)
"""

from __future__ import annotations

from pathlib import Path

import mujoco

from physai.bench.report import median_rates, write_report
from physai.robot.command import JointCommand
from physai.sim import BatchSim, Simulator


def run(
    robot: str = "unitree_g1",
    steps: int = 4000,
    decimation: int = 10,
    nsim: int = 8,
    threads: int = 2,
    repeats: int = 5,
    json_path: str | Path | None = None,
) -> dict:
    """Measure and report; `steps` physics steps per timed repeat (per world for the batch)."""
    sim = Simulator(robot)
    model, data = sim.model, sim.data
    command = JointCommand.hold(sim.spec)
    ticks = steps // decimation

    def raw() -> int:
        for _ in range(ticks * decimation):
            mujoco.mj_step(model, data)
        return ticks * decimation

    def single() -> int:
        for _ in range(ticks):
            sim.apply(command)
            sim.step(decimation)
            sim.state()
        return ticks * decimation

    batch = BatchSim(sim.spec, nsim, nthread=threads)

    def batched() -> int:
        for _ in range(ticks):
            batch.apply(command)
            batch.step(decimation)
            batch.state()
        return ticks * decimation * nsim

    runs = {"raw_mj_step": raw, "simulator": single, "batch": batched}
    for fn in runs.values():
        fn()  # warm-up
    rates = median_rates(runs, repeats)
    figures = {
        "raw_mj_step_steps_per_s": rates["raw_mj_step"],
        "simulator_steps_per_s": rates["simulator"],
        "batch_steps_per_s": rates["batch"],
    }
    ratios = {
        "simulator_vs_raw_mj_step": rates["simulator"] / rates["raw_mj_step"],
        "batch_vs_2x_single": rates["batch"] / (2 * rates["simulator"]),
    }
    meta = {
        "robot": sim.spec.name,
        "physics_dt_s": sim.physics_dt,
        "decimation": decimation,
        "nsim": nsim,
        "threads": threads,
        "repeats": repeats,
    }
    return write_report("sim", figures, ratios, json_path, **meta)
