"""`physai bench driver`: the G1 hardware it runs, the report of a short end-to-end run, a clear namespace error."""

import json
import math

import pytest

from physai.bench import driver
from physai.bringup.sets import resolve_loop_cpu
from physai.cli import main
from physai.drivers.config import HardwareConfig
from physai.robot import RobotSpec


def test_shipped_g1_hardware_is_valid_mixes_protocols_and_fits_its_buses_at_1khz():
    spec = RobotSpec.load("unitree_g1")
    config = HardwareConfig.load(spec.source.parent / "hardware.yaml", spec)
    assert len(config.motors) == spec.n_joints == 29
    assert config.rate_hz == 1000 and all(load.load <= 1.0 for load in config.bus_loads())
    assert {m.protocol for m in config.motors} == {"mit", "robstride"}
    for motor, joint in zip(config.motors, spec.joints, strict=True):
        limits = motor.limits
        assert min(-limits.t_min, limits.t_max) * motor.gear_ratio >= joint.effort
        assert max(abs(joint.lower), abs(joint.upper)) * motor.gear_ratio <= limits.p_max


def test_namespace_failure_is_one_clear_error(monkeypatch, capsys):
    def refused():
        raise RuntimeError("could not create a private network namespace (needs root / CAP_SYS_ADMIN)")

    monkeypatch.setattr(driver, "private_netns", refused)
    assert main(["bench", "driver", "--seconds", "1", "--motors", "12"]) == 2
    err = capsys.readouterr().err
    assert "physai: error:" in err and "root" in err and "Traceback" not in err


@pytest.mark.hil
def test_bench_driver_end_to_end_report(tmp_path, capsys):
    path = tmp_path / "bench_driver.json"
    assert main(["bench", "driver", "--seconds", "2", "--motors", "12", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["bench"] == "driver"
    assert set(report["figures"]) == {"12.no_rt", "12.rt", "bare.no_rt", "bare.rt"}
    for mode in ("no_rt", "rt"):  # the empty loop of the same run: the machine's floor
        bare = report["figures"][f"bare.{mode}"]
        assert 0 <= bare["lateness_us"]["p50"] <= bare["lateness_us"]["p99"] <= bare["lateness_us"]["max"]
        assert bare["ticks"] + bare["misses"] >= 1900
    if (cpu := resolve_loop_cpu("auto")) >= 0:  # the driver loop ran alone on the last CPU (3+ CPUs)
        assert report["figures"]["12.rt"]["affinity"] == f"cpu {cpu}"
    for key, fig in report["figures"].items():
        if key.startswith("bare."):
            continue
        assert fig["robot"] == "testbed_biped" and fig["motors"] == 12, key
        assert 0 < fig["ticks"] <= 2000, key  # 2 s at 1 kHz; an overrunning tick skips deadlines
        assert fig["ticks"] + fig["misses"] >= 1900, key  # every deadline of the 2 s was run or counted missed
        assert fig["replies_per_tick"] > 0, key  # the plant answered over the namespaced datagram buses
        for name in ("driver_tick_us", "driver_lateness_us"):
            p = fig[name]
            assert all(math.isfinite(v) for v in p.values()), (key, name)
            assert 0 <= p["p50"] <= p["p99"] <= p["max"], (key, name, p)
        assert fig["misses"] >= 0
    assert report["figures"]["12.no_rt"]["sched_fifo"].startswith("skipped")
    assert report["figures"]["12.rt"]["sched_fifo"]  # "ok (priority 80)" as root, else the reason
    assert set(report["ratios"]) == {
        "lateness_p99_rt_vs_no_rt_12",
        "lateness_p99_vs_bare_12",
        "lateness_p99_vs_bare_12_rt",
    }
    bare_p99 = report["figures"]["bare.rt"]["lateness_us"]["p99"]
    driver_p99 = report["figures"]["12.rt"]["driver_lateness_us"]["p99"]
    assert math.isclose(report["ratios"]["lateness_p99_vs_bare_12_rt"], driver_p99 / bare_p99, rel_tol=1e-9)
    out = capsys.readouterr().out
    assert "12.rt" in out and f"wrote {path}" in out
