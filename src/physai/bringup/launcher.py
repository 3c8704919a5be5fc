"""`physai launch`: start a bringup's nodes as processes, the way `ros2 launch` would, without the launch tools.

Each node runs as `python -m <module> --ros-args -r __node:=<name> --params-file <run>/params.yaml`, with
DDS confined to this host (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST unless the caller set it). Ctrl-C and
SIGTERM are forwarded; at the end (duration reached or a signal) nodes are stopped in reverse start order
(the recorder last) with SIGINT, then SIGKILL after a grace period. A node that dies on its own ends the launch with exit code 1
and its log tail; one that exits 0 (e.g. sim_node at sim_time) ends it normally. Logs go to <run>/<node>.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from physai.bringup.sets import NETNS_BRINGUPS, NodeLaunch, bringup, params_yaml

GRACE_S = 5.0
"""Seconds a node gets to exit after SIGINT before SIGKILL."""


@dataclass(frozen=True)
class LaunchResult:
    """How a launch ended."""

    exit_code: int
    """0: ran until the end or a signal; 1: a node died (see `failed`)."""
    run_dir: Path
    """Folder with params.yaml and the node logs."""
    failed: str | None
    """Name of the node that died, with its exit code and log tail."""
    wall_s: float


def localhost_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for nodes: DDS on this host unless the caller chose otherwise."""
    env = dict(os.environ if base is None else base)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_node(
    node: NodeLaunch, params: Path, run_dir: Path, env: Mapping[str, str], prefix: Sequence[str] = ()
) -> subprocess.Popen:
    """Start one node process (after `prefix`, e.g. nsenter); stdout and stderr go to <run_dir>/<name>.log."""
    log = (run_dir / f"{node.name}.log").open("wb")
    cmd = [sys.executable, "-m", node.module, "--ros-args", "-r", f"__node:={node.name}", "--params-file", str(params)]
    proc = subprocess.Popen(
        [*prefix, *cmd], stdout=log, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True
    )
    if node.cpus:  # before the interpreter has started any thread: all of them inherit it
        os.sched_setaffinity(proc.pid, node.cpus)
    return proc


@contextmanager
def private_netns() -> Iterator[list[str]]:
    """A fresh network namespace with only loopback (multicast routed to it); yields the nsenter prefix.

    Used for the HIL bringup: its virtual CAN bus is python-can udp_multicast, which must never reach a real
    network. Needs root (CAP_SYS_ADMIN). The namespace lives as long as a holder process inside it. A caller
    that already runs inside its own namespace sets PHYSAI_IN_NETNS=1 and the launch uses it as it is.
    """
    setup = "ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo && exec sleep infinity"
    try:
        holder = subprocess.Popen(["unshare", "--net", "sh", "-c", setup], start_new_session=True)
    except FileNotFoundError as err:
        raise RuntimeError("the HIL bringup needs `unshare` (util-linux) for its private network namespace") from err
    try:
        deadline = time.monotonic() + 5
        netns = f"/proc/{holder.pid}/ns/net"
        while time.monotonic() < deadline:
            if holder.poll() is not None:
                raise RuntimeError(
                    "could not create a private network namespace (needs root / CAP_SYS_ADMIN): the HIL bus "
                    "(udp_multicast) must stay inside one; run as root or inside your own namespace"
                )
            probe = subprocess.run(["nsenter", f"--net={netns}", "ip", "route"], capture_output=True, text=True)
            if "224.0.0.0/4" in probe.stdout:
                break
            time.sleep(0.02)
        yield ["nsenter", f"--net={netns}", "--"]
    finally:
        holder.kill()
        holder.wait()


def log_tail(run_dir: Path, name: str, lines: int = 15) -> str:
    """The last lines of a node's log."""
    path = run_dir / f"{name}.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


def launch(
    name: str,
    arguments: Mapping[str, Any],
    *,
    duration_s: float | None = None,
    run_dir: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    settle_s: float = 0.0,
) -> LaunchResult:
    """Run bringup `name` until `duration_s` (None: until SIGINT/SIGTERM); see the module docstring.

    `settle_s` extends the run by that many seconds of start-up time (node processes take a moment).
    """
    nodes = bringup(name, arguments)
    folder = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix=f"physai-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    params = folder / "params.yaml"
    params.write_text(params_yaml(nodes))
    node_env = localhost_env(env)
    stop = {"signal": None}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    procs: list[tuple[NodeLaunch, subprocess.Popen]] = []
    began = time.monotonic()
    failed = None
    with ExitStack() as stack:  # unwinds: stop the nodes, drop the namespace, restore signal handlers
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        stack.callback(lambda: [signal.signal(s, h) for s, h in previous.items()])
        isolate = name in NETNS_BRINGUPS and os.environ.get("PHYSAI_IN_NETNS") != "1"  # not already inside one
        prefix = stack.enter_context(private_netns()) if isolate else []
        stack.callback(stop_all, procs)  # runs first: nodes stop before the namespace goes
        procs.extend((node, start_node(node, params, folder, node_env, prefix)) for node in nodes)
        deadline = None if duration_s is None else began + duration_s + settle_s
        while stop["signal"] is None and (deadline is None or time.monotonic() < deadline):
            dead = [(n, p) for n, p in procs if p.poll() is not None]
            if dead:
                node, proc = dead[0]
                if proc.returncode != 0:
                    failed = f"{node.name} exited with code {proc.returncode}:\n{log_tail(folder, node.name)}"
                break  # a node that finished its job (exit 0, e.g. sim_time reached) ends the launch
            time.sleep(0.05)
    return LaunchResult(1 if failed else 0, folder, failed, time.monotonic() - began)


def stop_all(procs: list[tuple[NodeLaunch, subprocess.Popen]]) -> None:
    """SIGINT every running node in reverse start order (`stop_last` ones at the end), SIGKILL after GRACE_S."""
    ordered = [p for p in reversed(procs) if not p[0].stop_last] + [p for p in reversed(procs) if p[0].stop_last]
    for _, proc in ordered:
        stop_process(proc)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGINT, grace_s: float = GRACE_S) -> None:
    """Send `sig` to a running process, SIGKILL it if it is still there after `grace_s`."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch_single(name: str, module: str, parameters: Mapping[str, Any], *, duration_s: float | None = None) -> int:
    """Run one node (e.g. the recorder) like `launch` does; returns its exit code."""
    folder = Path(tempfile.mkdtemp(prefix=f"physai-{name}-"))
    node = NodeLaunch(name, name, module, dict(parameters))
    params = folder / "params.yaml"
    params.write_text(params_yaml([node]))
    proc = start_node(node, params, folder, localhost_env())
    try:
        proc.wait(timeout=duration_s)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    finally:
        stop_all([(node, proc)])
    return 0 if proc.returncode in (0, -signal.SIGINT) else 1
