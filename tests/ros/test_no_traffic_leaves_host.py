"""Nothing leaves the host: a `physai launch sim` run sends no frame out of any non-loopback interface.

A raw AF_PACKET socket on every non-loopback interface records the frames this host sends (PACKET_OUTGOING)
while `physai launch sim` runs as a separate process, started as a user would start it: from the CLI, with
ORT_DISABLE_TELEMETRY and ROS_AUTOMATIC_DISCOVERY_RANGE removed from its environment, so physai's own defaults
are what is tested (only the test's ROS_DOMAIN_ID stays), and with a fresh XDG_CACHE_HOME. A frame counts as the run's when it is
  - a DNS query (UDP/TCP port 53), unless it asks for a name of the package indexes that pip and apt use (other
    sessions on a shared development/CI machine install packages while this test runs; physai resolves none),
  - RTPS (a UDP payload starting b"RTPS") or UDP to/from a port of this test's DDS domain
    (7400 + 250 * ROS_DOMAIN_ID ... + 249; tests/ros/conftest.py picks a domain of its own), or to the DDS
    multicast group 239.255.0.1, or an IGMP report that joins it,
  - sent from a local port held by a socket of the launch's processes (sampled every 0.2 s while it runs).
Frames of other programs (pip/apt/git connections, ARP, neighbour discovery) match none of these. A DNS query
cannot be tied to a process, so another program resolving an unlisted name during the run would be counted too
(e.g. a bare `python -c "import onnxruntime"` elsewhere on the machine); the report names each query.

Run length: onnxruntime's telemetry (on by default in its Linux wheels since 1.29, the cause of the DNS queries
this test was written for) first resolves its collector ~9 s after policy_node creates its InferenceSession, so
a 3 s run would not catch it; the run is 12 s of simulated time in realtime mode (lockstep would keep both
cores busy for as long). Independently of timing, no onnxruntime telemetry state may appear in the fresh
XDG_CACHE_HOME. Needs root for AF_PACKET; skipped otherwise.
"""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ros.rosprobe import BALANCE_POLICY

pytestmark = pytest.mark.ros

RUN_SIM_S = 12
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
ARPHRD_ETHER = 1
DDS_MULTICAST = socket.inet_aton("239.255.0.1")
BACKGROUND_DNS_SUFFIXES = ("pypi.org", "pythonhosted.org", "debian.org")
"""Names other programs on this machine resolve while tests run (pip: pypi.org, files.pythonhosted.org; apt:
deb.debian.org and its _http._tcp SRV record, security.debian.org)."""


@dataclass(frozen=True)
class Frame:
    interface: str
    data: bytes
    hatype: int


@dataclass(frozen=True)
class Packet:
    """The parts of an outgoing IP packet the attribution looks at."""

    src: str
    dst: str
    dst_raw: bytes
    proto: str  # "udp", "tcp", "igmp" or the IP protocol number
    sport: int | None
    dport: int | None
    payload: bytes

    def __str__(self) -> str:
        ports = f":{self.sport} > " if self.sport is not None else " > "
        return f"{self.proto} {self.src}{ports}{self.dst}{'' if self.dport is None else f':{self.dport}'}"


class Sniffer:
    """Outgoing frames on every non-loopback interface, recorded by a thread between start() and stop()."""

    def __init__(self, interfaces: list[str]) -> None:
        self.sockets = []
        for name in interfaces:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            sock.bind((name, 0))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.sockets.append(sock)
        self.frames: list[Frame] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Frame]:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()
        return self.frames

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(self.sockets, [], [], 0.1)
            for sock in ready:
                try:
                    data, (interface, _proto, pkttype, hatype, _addr) = sock.recvfrom(65535)
                except OSError:  # the interface went down: it sends nothing more
                    self.sockets.remove(sock)
                    sock.close()
                    continue
                if pkttype == PACKET_OUTGOING:
                    self.frames.append(Frame(interface, data, hatype))


def non_loopback_interfaces() -> list[str]:
    """Interfaces other than lo that are up (IFF_UP): a down one sends nothing."""
    up = []
    for _, name in socket.if_nameindex():
        try:
            flags = int(Path(f"/sys/class/net/{name}/flags").read_text(), 16)
        except (OSError, ValueError):
            flags = 1
        if name != "lo" and flags & 1:
            up.append(name)
    return up


def ip_packet(frame: Frame) -> Packet | None:
    """The IPv4/IPv6 packet in a frame (Ethernet with optional VLAN tags, or raw IP); None for ARP and others."""
    data = frame.data
    if frame.hatype == ARPHRD_ETHER:
        offset, ethertype = 14, struct.unpack_from("!H", data, 12)[0]
        while ethertype in (0x8100, 0x88A8) and len(data) >= offset + 4:
            ethertype, offset = struct.unpack_from("!H", data, offset + 2)[0], offset + 4
        if ethertype not in (0x0800, 0x86DD):
            return None
        data = data[offset:]
    if not data:
        return None
    if data[0] >> 4 == 4 and len(data) >= 20:
        header = (data[0] & 0x0F) * 4
        number, src, dst = data[9], data[12:16], data[16:20]
        family = socket.AF_INET
    elif data[0] >> 4 == 6 and len(data) >= 40:
        header, number, src, dst = 40, data[6], data[8:24], data[24:40]
        family = socket.AF_INET6
    else:
        return None
    body = data[header:]
    sport = dport = None
    if number == 17 and len(body) >= 8:
        sport, dport = struct.unpack_from("!HH", body)
        payload = body[8:]
    elif number == 6 and len(body) >= 20:
        sport, dport = struct.unpack_from("!HH", body)
        payload = body[(body[12] >> 4) * 4 :]
    else:
        payload = body
    proto = {17: "udp", 6: "tcp", 2: "igmp"}.get(number, str(number))
    return Packet(socket.inet_ntop(family, src), socket.inet_ntop(family, dst), dst, proto, sport, dport, payload)


def dns_question(packet: Packet) -> str | None:
    """The first question name of a DNS query ('?' when it cannot be read, e.g. a bare TCP segment)."""
    message = packet.payload[2:] if packet.proto == "tcp" else packet.payload
    if len(message) < 13:
        return "?"
    labels, offset = [], 12
    while offset < len(message) and message[offset]:
        length = message[offset]
        if length & 0xC0:
            return "?"
        labels.append(message[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    return ".".join(labels).lower() or "."


def launch_ports(root_pid: int) -> set[tuple[str, int]]:
    """(udp|tcp, local port) of every socket the process tree under `root_pid` holds right now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        pids.add(pid)
        todo.extend(children.get(pid, []))
    inodes = set()
    for pid in pids:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("udp", "udp6", "tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                ports.add((table.rstrip("6"), int(fields[1].rsplit(":", 1)[1], 16)))
    return ports


def frames_of_the_run(frames: list[Frame], ports: set[tuple[str, int]], domain: int) -> list[str]:
    """Descriptions of the frames attributed to the run (see the module docstring)."""
    domain_ports = range(7400 + 250 * domain, 7400 + 250 * (domain + 1))
    found = []
    for frame in frames:
        packet = ip_packet(frame)
        if packet is None:
            continue
        where = f"{frame.interface}: {packet}"
        if packet.proto in ("udp", "tcp") and packet.dport == 53:
            name = dns_question(packet)
            if name != "?" and name.rstrip(".").endswith(BACKGROUND_DNS_SUFFIXES):
                continue
            found.append(f"{where} DNS query {name}")
        elif packet.proto == "udp" and (
            packet.payload.startswith(b"RTPS")
            or packet.sport in domain_ports
            or packet.dport in domain_ports
            or packet.dst_raw == DDS_MULTICAST
        ):
            found.append(f"{where} DDS/RTPS")
        elif packet.proto == "igmp" and DDS_MULTICAST in packet.payload:
            found.append(f"{where} IGMP report for 239.255.0.1")
        elif packet.sport is not None and (packet.proto, packet.sport) in ports:
            found.append(f"{where} from a socket of the launch")
    return found


@pytest.fixture
def sniffer():
    if os.geteuid() != 0:
        pytest.skip("sniffing the non-loopback interfaces needs root (AF_PACKET raw sockets)")
    interfaces = non_loopback_interfaces()
    if not interfaces:
        pytest.skip("no non-loopback interface: nothing could leave this host")
    try:
        sniff = Sniffer(interfaces)
    except (AttributeError, PermissionError, OSError) as err:
        pytest.skip(f"AF_PACKET raw sockets not available here ({err})")
    sniff.start()
    yield sniff
    sniff.stop()


def test_a_launch_sends_nothing_off_this_host(sniffer, tmp_path):
    env = dict(os.environ)
    for own_default in ("ORT_DISABLE_TELEMETRY", "ROS_AUTOMATIC_DISCOVERY_RANGE"):  # physai must set these itself
        env.pop(own_default, None)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    domain = int(env["ROS_DOMAIN_ID"])
    cmd = [
        sys.executable,
        "-m",
        "physai.cli",
        "launch",
        "sim",
        "robot:=testbed_biped",
        f"policy:={BALANCE_POLICY}",
        "mode:=realtime",
        f"max_sim_time_s:={RUN_SIM_S}",
    ]
    ports: set[tuple[str, int]] = set()
    with (tmp_path / "launch.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + RUN_SIM_S + 60
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                ports |= launch_ports(proc.pid)
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    time.sleep(0.5)  # a reply-less query sent at the very end is still on its way out
    frames = sniffer.stop()
    output = (tmp_path / "launch.log").read_text(errors="replace")
    assert proc.returncode == 0, output[-3000:]
    run_dir = re.search(r"logs: (\S+)", output)
    assert any(p[0] == "udp" for p in ports), "no DDS socket of the launch was seen: the port sampling is broken"

    leaked = frames_of_the_run(frames, ports, domain)
    assert not leaked, (
        f"{len(leaked)} frame(s) of the run left this host (of {len(frames)} outgoing frames on "
        f"{', '.join(non_loopback_interfaces())}):\n" + "\n".join(leaked[:20]) + f"\nlogs: {run_dir and run_dir[1]}"
    )
    telemetry = tmp_path / "cache" / "Microsoft"
    assert not telemetry.exists(), (
        f"onnxruntime telemetry is on in the nodes: it created {sorted(telemetry.rglob('*'))}"
    )
