"""The nodes' DDS environment (`localhost_env`): physai's loopback profile unless the caller chose otherwise.

The profile itself is read as Fast DDS reads it: every locator and interface it names is 127.0.0.1 and the
built-in transports (shared memory among them) are off. tests/ros/test_no_traffic_leaves_host.py checks the
wire of a real launch with this default.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from physai.bringup.launcher import localhost_env

RANGE, PROFILE = "ROS_AUTOMATIC_DISCOVERY_RANGE", "FASTRTPS_DEFAULT_PROFILES_FILE"


@pytest.mark.parametrize("base", [{}, {RANGE: "LOCALHOST"}])
def test_unset_or_localhost_range_gets_the_loopback_profile(base):
    env = localhost_env(base)
    assert env[RANGE] == "SYSTEM_DEFAULT"  # rmw_fastrtps would add its shared-memory transport for LOCALHOST
    assert Path(env[PROFILE]).name == "fastdds_loopback.xml" and Path(env[PROFILE]).is_file()


@pytest.mark.parametrize("base", [{RANGE: "SUBNET"}, {RANGE: "LOCALHOST", PROFILE: "/etc/mine.xml"}])
def test_a_range_or_profile_of_the_callers_own_is_kept(base):
    assert {k: localhost_env(base).get(k) for k in (RANGE, PROFILE)} == {RANGE: base[RANGE], PROFILE: base.get(PROFILE)}


def test_a_network_namespace_always_gets_the_loopback_profile():
    env = localhost_env({RANGE: "SUBNET", PROFILE: "/etc/mine.xml"}, netns=True)
    assert env[RANGE] == "SYSTEM_DEFAULT" and Path(env[PROFILE]).name == "fastdds_loopback.xml"


def test_the_loopback_profile_names_only_127_0_0_1_and_no_builtin_transport():
    root = ET.parse(localhost_env({})[PROFILE]).getroot()
    ns = {"f": root.tag.partition("}")[0][1:]}
    addresses = [a.text for a in root.iterfind(".//f:address", ns)]
    assert addresses and set(addresses) == {"127.0.0.1"}
    assert [t.text for t in root.iterfind(".//f:transport_descriptor/f:type", ns)] == ["UDPv4"]
    assert root.find(".//f:useBuiltinTransports", ns).text == "false"
    assert root.find(".//f:metatrafficMulticastLocatorList", ns) is None  # no multicast discovery
    assert root.find(".//f:participant", ns).get("is_default_profile") == "true"


def test_the_loopback_profile_gives_sockets_room_and_reliable_writers_a_fast_heartbeat():
    # a busy reader drops loopback datagrams at a 208 KiB socket buffer, and a reliable gap is repaired only on
    # the writer's next heartbeat (3 s by default): a writer that ends sooner takes its last samples with it
    root = ET.parse(localhost_env({})[PROFILE]).getroot()
    ns = {"f": root.tag.partition("}")[0][1:]}
    udp = root.find(".//f:transport_descriptor", ns)
    assert [int(udp.find(f"f:{k}", ns).text) for k in ("sendBufferSize", "receiveBufferSize")] == [4 << 20] * 2
    writer = root.find(".//f:data_writer", ns)
    assert writer.get("is_default_profile") == "true"
    period = writer.find("f:times/f:heartbeatPeriod", ns)
    assert int(period.find("f:sec", ns).text) + int(period.find("f:nanosec", ns).text) * 1e-9 == pytest.approx(0.1)
