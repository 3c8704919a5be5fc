"""`physai launch`: start a bringup's nodes as processes, the way `ros2 launch` would, without the launch tools.

Each node runs as `python -m <module> --ros-args -r __node:=<name> --params-file <run>/params.yaml`, with
DDS confined to this host (UDP on 127.0.0.1, `localhost_env`, unless the caller chose a range or profile). Logs go to
<run>/<node>.log; <run>/pids.json holds {node: pid} of the running nodes.

Supervision (`ros2 launch` semantics, DESIGN.md "Runtime rules"): a node that dies (non-zero exit code or a
signal) takes nobody down. The actuator-facing nodes (`NodeLaunch.actuator`: sim_node, driver_node,
motor_sim_node) keep running and their SafetyGuard times out into damping, latched until re-armed. The death
is reported on stderr (node, exit code or signal, log tail), in `LaunchResult.deaths`, and on /diagnostics
("launch: <node>", level ERROR) by physai.ros.launch_monitor, which the launcher (no rclpy here) starts at the
first exit and feeds JSON lines on its stdin. A node with `respawn` (policy_node with respawn:=true) is
restarted `respawn_delay_s` after it exits, its log appended to. The launch ends when an actuator node exits
(exit 0: its job is done, e.g. sim_node at sim_time), at `duration_s`, or at SIGINT/SIGTERM (forwarded); the
nodes still running are then stopped with SIGINT, SIGKILL after a grace period: the actuator nodes first (the
run's clock stops before its policy), then the others in reverse start order, the recorder last; that stop is the only way the launcher ends an actuator node (driver_node then sends
exit-motor-mode frames). The exit code is 1 if any node died during the launch.

A real-time set (a node at SCHED_FIFO) also runs the kernel's softirq threads at SCHED_FIFO above its loops
for the launch (physai.bringup.host: frames and DDS datagrams are delivered there), where permitted.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from physai.bringup.domain import domain_lease
from physai.bringup.host import softirq_threads_fifo
from physai.bringup.sets import NETNS_BRINGUPS, NodeLaunch, bringup, params_yaml
from physai.paths import data_root, scratch_dir

GRACE_S = 5.0
"""Seconds a node gets to exit after SIGINT before SIGKILL."""
EVENT_TAIL_CHARS = 600
"""Log tail characters sent to launch_monitor per event: a JSON line stays below PIPE_BUF (4096 bytes, even
with every character escaped), so it is written whole or not at all."""


@dataclass(frozen=True)
class NodeExit:
    """A node process that ended while the launch ran (`LaunchResult.deaths`: those with a non-zero code)."""

    node: str
    returncode: int
    """Exit code; negative: killed by that signal (subprocess convention)."""
    at_s: float
    """Seconds after the launch began."""
    log_tail: str

    @property
    def detail(self) -> str:
        """E.g. "killed by SIGKILL (exit code -9)" or "exited with code 1"."""
        if self.returncode >= 0:
            return f"exited with code {self.returncode}"
        try:
            name = signal.Signals(-self.returncode).name
        except ValueError:
            name = f"signal {-self.returncode}"
        return f"killed by {name} (exit code {self.returncode})"


@dataclass(frozen=True)
class LaunchResult:
    """How a launch ended."""

    exit_code: int
    """0: ran until the end or a signal and no node died; 1: a node died (see `failed`, `deaths`)."""
    run_dir: Path
    """Folder with params.yaml, pids.json and the node logs."""
    failed: str | None
    """The nodes that died, each with its exit code or signal and log tail; None if none did."""
    wall_s: float
    deaths: tuple[NodeExit, ...] = ()
    """Every non-zero exit of a node during the launch, in order."""
    timed_out: bool = False
    """`duration_s` ran out before the run ended (no actuator node had finished, no signal came)."""


def localhost_env(base: Mapping[str, str] | None = None, *, netns: bool = False) -> dict[str, str]:
    """The environment for nodes: DDS on this host and onnxruntime telemetry off, unless the caller chose otherwise.

    DDS on this host is config/fastdds_loopback.xml (UDP and unicast discovery on 127.0.0.1, no shared-memory
    transport; the file says why) with ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT, so that rmw_fastrtps takes
    it. It replaces an unset or LOCALHOST range when the caller has no Fast DDS profile of their own; another
    range (SUBNET, to reach other machines) or the caller's FASTRTPS_DEFAULT_PROFILES_FILE is kept.
    `netns`: the nodes run in a private network namespace (only loopback), where the profile always applies.
    """
    env = dict(os.environ if base is None else base)
    own_choice = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST") != "LOCALHOST"
    if netns or not (own_choice or "FASTRTPS_DEFAULT_PROFILES_FILE" in env):
        env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SYSTEM_DEFAULT"
        env["FASTRTPS_DEFAULT_PROFILES_FILE"] = str(data_root() / "config" / "fastdds_loopback.xml")
    env.setdefault("ORT_DISABLE_TELEMETRY", "1")  # onnxruntime's Linux telemetry (see physai/__init__.py)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_node(
    node: NodeLaunch,
    params: Path,
    run_dir: Path,
    env: Mapping[str, str],
    prefix: Sequence[str] = (),
    *,
    append: bool = False,
    stdin: int | None = None,
) -> subprocess.Popen:
    """Start one node process (after `prefix`, e.g. nsenter); stdout and stderr go to <run_dir>/<name>.log.

    `append` adds to that log instead of starting it afresh (a respawn); `stdin` is the child's stdin (None:
    inherited; subprocess.PIPE: an unbuffered pipe, `proc.stdin`).
    """
    cmd = [sys.executable, "-m", node.module, "--ros-args", "-r", f"__node:={node.name}", "--params-file", str(params)]
    # Its own process group keeps the terminal's Ctrl-C away (the launcher stops the nodes in order); the session
    # stays the launcher's, as under `ros2 launch`: a new session is a new scheduler autogroup, and against one
    # node per autogroup a `nice -n 19` busy loop in a shell with a frequently waking process took equal shares
    # (start-up 33 s in place of 5 s here, policy steps held back), where in one autogroup nice 19 is honoured.
    with (run_dir / f"{node.name}.log").open("ab" if append else "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [*prefix, *cmd],
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, **node.environment},
            process_group=0,
            bufsize=0,
        )
    if node.cpus:  # before the interpreter has started any thread: all of them inherit it
        os.sched_setaffinity(proc.pid, node.cpus)
    return proc


@contextmanager
def relay_keys(target: Callable[[], subprocess.Popen]) -> Iterator[None]:
    """Pass the keys typed on this terminal to `target()`'s stdin (the teleop node) while the block runs.

    The terminal is put in cbreak mode (keys one by one, no echo; Ctrl-C still stops the launch) and restored
    afterwards. Without a terminal on stdin nothing is relayed.
    """
    if not sys.stdin.isatty():
        print("physai launch: stdin is not a terminal; teleop:=keyboard gets no keys", file=sys.stderr)
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    done = threading.Event()

    def pump() -> None:
        while not done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            key = os.read(fd, 1)
            with suppress(OSError, AttributeError):  # the node is restarting or gone
                os.write(target().stdin.fileno(), key)

    from physai.control.teleop import KEYBOARD_HELP

    print(KEYBOARD_HELP + "\n(keys go to teleop_node; Ctrl-C stops the launch)", file=sys.stderr)
    tty.setcbreak(fd)
    thread = threading.Thread(target=pump, name="keys", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=1.0)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class _Monitor:
    """physai.ros.launch_monitor, started at the first event and fed one JSON line per event on its stdin."""

    def __init__(self, start: Callable[[NodeLaunch], subprocess.Popen], cpus: tuple[int, ...]) -> None:
        self._start = start
        self._node = NodeLaunch("launch_monitor", "launch_monitor", "physai.ros.launch_monitor", cpus=cpus)
        self.proc: subprocess.Popen | None = None
        self._broken = False

    def send(self, event: dict[str, Any]) -> None:
        """Pass one event on; never blocks the launcher (a stuck or dead monitor loses events, said on stderr)."""
        if self._broken:
            return
        if self.proc is None:
            self.proc = self._start(self._node)
            os.set_blocking(self.proc.stdin.fileno(), False)
        line = (json.dumps(event) + "\n").encode()
        try:
            written = os.write(self.proc.stdin.fileno(), line)
        except OSError:  # BrokenPipeError (it died), BlockingIOError (it does not read)
            written = 0
        if written != len(line):
            self._broken = True
            print("physai launch: launch_monitor does not take events; /diagnostics misses them", file=sys.stderr)

    def close(self) -> None:
        """End of stdin: the monitor exits; SIGINT, then SIGKILL if it does not."""
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                stop_process(self.proc)
            if self.proc.returncode not in (0, -signal.SIGINT):
                print(
                    f"physai launch: launch_monitor exited with code {self.proc.returncode} (see its log)",
                    file=sys.stderr,
                )


@dataclass
class _Process:
    """One node of a launch and its current process."""

    node: NodeLaunch
    proc: subprocess.Popen
    exited: bool = False
    respawn_at: float | None = None
    """time.monotonic() at which to restart it."""
    starts: int = 1


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
    """Run bringup `name` until an actuator node exits, `duration_s` or SIGINT/SIGTERM; see the module docstring.

    `settle_s` extends the run by that many seconds of start-up time (node processes take a moment).
    """
    nodes = bringup(name, arguments)
    folder = Path(run_dir) if run_dir else scratch_dir(f"{name}-")
    folder.mkdir(parents=True, exist_ok=True)
    params = folder / "params.yaml"
    params.write_text(params_yaml(nodes))
    node_env = localhost_env(env, netns=name in NETNS_BRINGUPS)
    stop = {"signal": None}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    running: list[_Process] = []
    deaths: list[NodeExit] = []
    began = time.monotonic()
    with ExitStack() as stack:  # unwinds: stop the nodes, the monitor, drop the namespace, restore signal handlers
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        stack.callback(lambda: [signal.signal(s, h) for s, h in previous.items()])
        domain, chosen = stack.enter_context(domain_lease(node_env))  # a DDS domain no other physai run uses
        node_env["ROS_DOMAIN_ID"] = str(domain)
        if chosen and domain:
            print(f"physai launch: ROS_DOMAIN_ID={domain} (another physai run holds the lower ones; export it to "
                  "see this run's topics)", file=sys.stderr)  # fmt: skip
        isolate = name in NETNS_BRINGUPS and os.environ.get("PHYSAI_IN_NETNS") != "1"  # not already inside one
        prefix = stack.enter_context(private_netns()) if isolate else []
        if any(n.fifo_priority or n.parameters.get("realtime_priority") for n in nodes):
            softirq = stack.enter_context(softirq_threads_fifo())  # frames and DDS are delivered there
            print(f"physai launch: softirq threads {softirq}", file=sys.stderr)

        def start(node: NodeLaunch, **kwargs: Any) -> subprocess.Popen:
            return start_node(node, params, folder, node_env, prefix, **kwargs)

        monitor = _Monitor(lambda node: start(node, stdin=subprocess.PIPE), nodes[0].cpus)
        stack.callback(monitor.close)
        stack.callback(_write_pids, folder, running)  # {} once every node is stopped
        stack.callback(lambda: stop_all([(p.node, p.proc) for p in running]))  # runs first: nodes, then monitor
        running.extend(_Process(node, start(node, stdin=subprocess.PIPE if node.keyboard else None)) for node in nodes)
        keys = [p for p in running if p.node.keyboard]
        if keys:
            stack.enter_context(relay_keys(lambda: keys[0].proc))
        _write_pids(folder, running)
        deadline = None if duration_s is None else began + duration_s + settle_s
        ended = False
        while not ended and stop["signal"] is None and (deadline is None or time.monotonic() < deadline):
            for p in running:
                if p.respawn_at is not None and time.monotonic() >= p.respawn_at:
                    with (folder / f"{p.node.name}.log").open("a") as log:
                        log.write(f"--- physai launch: {p.node.name} respawned (start {p.starts + 1}) ---\n")
                    stdin = subprocess.PIPE if p.node.keyboard else None
                    p.proc, p.exited, p.respawn_at = start(p.node, append=True, stdin=stdin), False, None
                    p.starts += 1
                    print(f"physai launch: {p.node.name} respawned (pid {p.proc.pid})", file=sys.stderr)
                    monitor.send({"node": p.node.name, "event": "respawned", "pid": p.proc.pid})
                    _write_pids(folder, running)
                elif not p.exited and p.proc.poll() is not None:
                    p.exited = True
                    ended = ended or p.node.actuator or p.node.required  # its job is done, or nothing can go on
                    exit_ = NodeExit(
                        p.node.name, p.proc.returncode, time.monotonic() - began, log_tail(folder, p.node.name)
                    )
                    _on_exit(p, exit_, deaths, monitor, ended)
                    _write_pids(folder, running)
            ended = ended or all(p.exited and p.respawn_at is None for p in running)
            time.sleep(0.05)
    failed = "\n".join(f"{d.node} {d.detail}:\n{d.log_tail}" for d in deaths[:3]) or None
    if len(deaths) > 3:
        failed += f"\n... and {len(deaths) - 3} more deaths"
    timed_out = not ended and stop["signal"] is None
    return LaunchResult(1 if deaths else 0, folder, failed, time.monotonic() - began, tuple(deaths), timed_out)


def _on_exit(p: _Process, exit_: NodeExit, deaths: list[NodeExit], monitor: _Monitor, ending: bool) -> None:
    """Record and report a node's exit; schedule its respawn if it has one and the launch goes on."""
    died = exit_.returncode != 0
    if died:
        deaths.append(exit_)
    if ending:
        then = "; the launch ends"
    elif p.node.respawn:
        p.respawn_at = time.monotonic() + p.node.respawn_delay_s
        then = f"; respawning in {p.node.respawn_delay_s:g} s"
    else:
        then = "; the other nodes keep running"
    what = exit_.detail if died else "finished (exit code 0)"
    tail = "".join(f"\n  | {line}" for line in exit_.log_tail.splitlines()) if died else ""
    print(f"physai launch: {p.node.name} {what} after {exit_.at_s:.1f} s{then}{tail}", file=sys.stderr)
    if not ending:  # the launch goes on: tell /diagnostics
        event = {"node": p.node.name, "event": "died" if died else "finished", "returncode": exit_.returncode}
        monitor.send({**event, "detail": what, "log_tail": exit_.log_tail[-EVENT_TAIL_CHARS:]})


def _write_pids(run_dir: Path, running: list[_Process]) -> None:
    """<run_dir>/pids.json: {node: pid} of the nodes running now (replaced whole, never read half-written)."""
    pids = {p.node.name: p.proc.pid for p in running if p.proc.poll() is None}
    tmp = run_dir / "pids.json.tmp"
    tmp.write_text(json.dumps(pids))
    tmp.replace(run_dir / "pids.json")


def stop_all(procs: list[tuple[NodeLaunch, subprocess.Popen]]) -> None:
    """SIGINT every running node, SIGKILL after GRACE_S; actuator nodes first, the `stop_last` ones at the end.

    The run's clock (sim_node, the plant) stops before its policy, so the robot is never recorded sagging under
    a policy already gone; the others go in reverse start order and the recorder finalizes the bag last.
    """
    ordered = [p for p in reversed(procs) if p[0].actuator]
    ordered += [p for p in reversed(procs) if not p[0].actuator and not p[0].stop_last]
    ordered += [p for p in reversed(procs) if p[0].stop_last]
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
    """Run one node (e.g. the recorder) like `launch` does until it exits, `duration_s`, SIGINT or SIGTERM.

    Returns its exit code (0 when it stopped cleanly on the signal). A signal is forwarded as SIGINT (the node finalizes its output), so nothing is left running.
    """
    folder = scratch_dir(f"{name}-")
    node = NodeLaunch(name, name, module, dict(parameters))
    params = folder / "params.yaml"
    params.write_text(params_yaml([node]))
    stop = {"signal": None}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc = start_node(node, params, folder, localhost_env())
        deadline = None if duration_s is None else time.monotonic() + duration_s
        while proc.poll() is None and stop["signal"] is None and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        stop_all([(node, proc)])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if proc.returncode not in (0, -signal.SIGINT):
        print(f"physai: {name} exited with code {proc.returncode}:\n{log_tail(folder, name)}", file=sys.stderr)
        return 1
    return 0
