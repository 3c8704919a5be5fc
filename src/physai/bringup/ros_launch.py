"""The body of every launch/<set>.launch.py: a launch_ros description of a physai.bringup node set.

Imports ROS 2's launch packages only when called (they exist on ROS 2 machines, not in the venv).
Supervision as in `physai launch`: a node that dies takes nobody down; policy_node has launch_ros
`respawn` / `respawn_delay` (respawn:=true respawn_delay:=S); only the exit of an actuator node (sim_node at
sim_time, or one that failed) or of a required one (a lockstep policy_node) ends the launch, through an
OnProcessExit → Shutdown handler.
"""

from __future__ import annotations

from typing import Any

from physai.bringup.sets import LAUNCH_ARGUMENTS, NodeLaunch, bringup


def generate_launch_description(set_name: str) -> Any:
    """DeclareLaunchArgument per physai launch argument, and the set's Node actions with their parameters."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler, Shutdown
    from launch.event_handlers import OnProcessExit
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def nodes(context: Any, *args: Any, **kwargs: Any) -> list[Any]:
        given = {name: LaunchConfiguration(name).perform(context) for name in LAUNCH_ARGUMENTS[set_name]}
        actions = []
        for n in bringup(set_name, given):
            node = Node(
                package="physai",
                executable=n.executable,
                name=n.name,
                parameters=[n.parameters],
                output="screen",
                prefix=_prefix(n),
                additional_env=n.environment or None,
                respawn=n.respawn,
                respawn_delay=n.respawn_delay_s,
            )
            actions.append(node)
            if n.actuator or n.required:  # its exit ends the run; no other node's exit does
                shutdown = Shutdown(reason=f"{n.name} exited")
                actions.append(RegisterEventHandler(OnProcessExit(target_action=node, on_exit=[shutdown])))
        return actions

    declared = [
        DeclareLaunchArgument(name, default_value=str(default), description=help_text)
        for name, (default, help_text) in LAUNCH_ARGUMENTS[set_name].items()
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=nodes)])


def _prefix(node: NodeLaunch) -> str | None:
    """The command prefix: its own terminal for a keyboard node (`xterm -e`), its CPUs (`taskset`), or None."""
    parts = ["xterm -e"] if node.keyboard else []
    if node.cpus:
        parts.append(f"taskset -c {','.join(map(str, node.cpus))}")
    return " ".join(parts) or None
