"""teleop:= in the launch sets: which teleop_node, on which clock, and bad values refused with one message."""

import pytest

from physai.bringup.sets import bringup
from physai.paths import data_root

POLICY = str(data_root() / "policies" / "biped_balance" / "policy.onnx")
SCRIPT = data_root() / "sim_envs" / "commands" / "walk_path.yaml"


def teleop_node(set_name: str, teleop: str):
    nodes = bringup(set_name, {"policy": POLICY, "teleop": teleop, "loop_cpu": "none"})
    return next(n for n in nodes if n.name == "teleop_node")


def test_script_runs_on_sim_time_in_sim_and_hil_and_on_wall_time_on_the_robot():
    for set_name, sim_time in (("sim", True), ("hil", True), ("robot", False)):
        node = teleop_node(set_name, f"script:{SCRIPT}")
        script = str(SCRIPT.resolve())
        assert node.parameters == {"source": "script", "use_sim_time": sim_time, "script": script, "stamped": False}
        assert not node.keyboard and not node.actuator and not node.respawn


def test_a_lockstep_script_sends_stamped_commands_that_the_policy_and_the_recorder_read_as_such():
    def stamped(teleop: str, **extra: str) -> dict[str, bool]:
        args = {"policy": POLICY, "teleop": teleop, "loop_cpu": "none", "record": "/tmp/unused-bag", **extra}
        nodes = {n.name: n for n in bringup("sim", args)}
        return {
            "teleop": nodes["teleop_node"].parameters["stamped"],
            "policy": nodes["policy_node"].parameters["cmd_vel_stamped"],
            "recorder": nodes["recorder_node"].parameters["cmd_vel_stamped"],
        }

    everywhere = {"teleop": True, "policy": True, "recorder": True}
    assert stamped(f"script:{SCRIPT}", mode="lockstep") == everywhere  # one command per state's time
    nowhere = dict.fromkeys(everywhere, False)
    assert stamped(f"script:{SCRIPT}") == nowhere  # realtime: Twist at rate_hz, as teleop_twist_keyboard
    assert stamped("keyboard", mode="lockstep") == nowhere  # an operator is not on the sim's clock


def test_the_policy_awaits_the_teleop_where_the_plant_waits_for_it():
    def awaited(set_name: str, **extra: str) -> str | None:
        nodes = bringup(set_name, {"policy": POLICY, "teleop": f"script:{SCRIPT}", "loop_cpu": "none", **extra})
        return next(n for n in nodes if n.name == "policy_node").parameters.get("await_inputs")

    assert awaited("sim", mode="lockstep") == "/cmd_vel"  # the sim repeats its first state until answered
    assert awaited("hil") == "/cmd_vel"  # the plant stays in its gantry until commanded
    assert awaited("sim") is None  # realtime physics runs from the start: the robot must be held
    assert awaited("robot") is None


def test_keyboard_and_joy():
    keys = teleop_node("sim", "keyboard")
    assert keys.keyboard and keys.parameters["source"] == "keyboard"
    joy = teleop_node("sim", "joy")
    assert not joy.keyboard and joy.parameters["source"] == "joy"
    assert all(n.name != "teleop_node" for n in bringup("sim", {"policy": POLICY}))  # none unless asked


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"policy": POLICY, "teleop": "mouse"}, "teleop:='mouse'; expected keyboard, joy or script:FILE"),
        ({"policy": POLICY, "teleop": "script:"}, "expected keyboard, joy or script:FILE"),
        ({"policy": POLICY, "teleop": "joy:x.yaml"}, "expected keyboard, joy or script:FILE"),
        ({"policy": POLICY, "teleop": "script:/nonexistent/path.yaml"}, "does not exist"),
        ({"teleop": "joy"}, "needs policy:="),
    ],
)
def test_bad_teleop_values_are_refused(given, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bringup("sim", given)
