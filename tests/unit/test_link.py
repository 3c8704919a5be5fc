"""DatagramLink: the virtual CAN buses between processes (one datagram per batch, each bus's wire modelled).

Multicast must never leave the host, so the checks run in a network namespace this test creates (root).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, time
import numpy as np
from physai.drivers.frame import CanFrame, FrameBatch
from physai.drivers.link import DatagramLink

a = DatagramLink("239.74.163.9:43200", [1_000_000, 1_000_000, 125_000])
b = DatagramLink("239.74.163.9:43200", [1_000_000, 1_000_000, 125_000])
frames = [(0, CanFrame(k + 1, bytes(8))) for k in range(3)] + [(2, CanFrame(0x100 + k, bytes(8), True)) for k in range(3)]
sent_at = time.monotonic()
assert a.send(frames) == 6
seen = {}
while len(seen) < 6 and time.monotonic() - sent_at < 2.0:
    for bus, frame in b.receive():
        seen[frame.arbitration_id] = (bus, time.monotonic() - sent_at)
own = a.receive()
b.send([(0, CanFrame(0, bytes(6)))])  # a reply: after what b heard on bus 0
reply = []
while not reply and time.monotonic() - sent_at < 2.0:
    reply = a.receive()
print("RESULT " + json.dumps({"seen": {str(k): v for k, v in seen.items()}, "own": len(own), "reply": [[r[0], r[1].arbitration_id, r[1].data.hex()] for r in reply]}))
"""


def run_in_netns() -> dict:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private network namespace")
    setup = "ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo"
    proc = subprocess.run(
        ["unshare", "--net", "sh", "-c", f'{setup} && exec {sys.executable} -c "$0"', SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-2000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_frames_arrive_after_their_wire_time_in_order_and_never_back_to_their_sender():
    r = run_in_netns()
    seen = {int(k): v for k, v in r["seen"].items()}
    assert sorted(seen) == [1, 2, 3, 0x100, 0x101, 0x102]
    # 11-bit, 8 bytes: 135 bits worst case = 135 µs at 1 Mbit/s; 29-bit: 160 bits = 1280 µs at 125 kbit/s
    for k, can_id in enumerate((1, 2, 3)):
        bus, t = seen[can_id]
        assert bus == 0 and t >= 135e-6 * (k + 1)
    for k, can_id in enumerate((0x100, 0x101, 0x102)):
        bus, t = seen[can_id]
        assert bus == 2 and t >= 1280e-6 * (k + 1)  # the slow bus serialises its own frames only
    assert seen[3][1] < seen[0x102][1]
    assert r["own"] == 0  # a link skips its own multicast echo
    assert r["reply"] == [[0, 0, "000000000000"]]
