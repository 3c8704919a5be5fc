"""ament_python / setuptools build of physai.

`colcon build` installs the package, the ament index marker, package.xml, and the data folders
(config/, launch/, robot_descriptions/, sim_envs/, policies/) under share/physai; console scripts go to
lib/physai (setup.cfg), where `ros2 run physai <node>` looks for them.
"""

from pathlib import Path

from setuptools import Extension, find_packages, setup

PACKAGE = "physai"
HERE = Path(__file__).parent
DATA_DIRS = ("config", "launch", "robot_descriptions", "sim_envs", "policies")


def _data_files() -> list[tuple[str, list[str]]]:
    """Every file under DATA_DIRS, mapped to share/physai/<same relative folder>."""
    files: list[tuple[str, list[str]]] = [
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ]
    by_dir: dict[str, list[str]] = {}
    for top in DATA_DIRS:
        for path in sorted((HERE / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(HERE)
                by_dir.setdefault(str(rel.parent), []).append(str(rel))
    files += [(f"share/{PACKAGE}/{folder}", paths) for folder, paths in sorted(by_dir.items())]
    return files


setup(
    name=PACKAGE,
    version="0.1.0",
    package_dir={"": "src"},
    packages=find_packages("src"),
    # the CAN driver's per-tick codec core (physai.drivers.can_bus falls back to numpy without it)
    ext_modules=[
        Extension(
            "physai.drivers._cancore",
            ["src/physai/drivers/_cancore.c"],
            extra_compile_args=["-O2", "-ffp-contract=off"],
        )
    ],
    data_files=_data_files(),
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="physai developers",
    maintainer_email="dev@physai.invalid",
    description="Physical-AI humanoid control stack (MuJoCo, RL, ROS 2, CAN)",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [
            "physai = physai.cli:main",
            "sim_node = physai.ros.sim_node:main",
            "policy_node = physai.ros.policy_node:main",
            "teleop_node = physai.ros.teleop_node:main",
            "perception_node = physai.ros.perception_node:main",
            "recorder_node = physai.ros.recorder_node:main",
            "driver_node = physai.ros.driver_node:main",
            "motor_sim_node = physai.ros.motor_sim_node:main",
        ],
    },
)
