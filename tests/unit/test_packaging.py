"""The ROS 2 packaging is real: `colcon build` of a copy of this checkout installs an ament_python package.

One throwaway colcon workspace per run (system colcon, system Python, no venv): the install must hold
package.xml, the ament index marker, every file of the data folders under share/physai, the console
script under lib/physai (where `ros2 run physai physai` looks), and an importable `physai` whose
`paths.data_root()` resolves to the install's share/physai rather than to this source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLCON = Path("/usr/bin/colcon")
PACKAGE = "physai"
DATA_DIRS = ("config", "launch", "robot_descriptions", "sim_envs", "policies")
REQUIRED_SHARE_FILES = (
    "package.xml",
    "robot_descriptions/unitree_g1/robot.yaml",
    "robot_descriptions/testbed_biped/testbed_biped.xml",
    "sim_envs/scenes/flat.xml",
)
# Never part of the package: VCS, the venv, build outputs, caches (mirrors .gitignore).
_TOP_LEVEL_SKIP = {".git", ".venv", "out", "build", "install", "log", "runs", ".pytest_cache", ".ruff_cache"}
_ANYWHERE_SKIP = {"__pycache__"}


@dataclass(frozen=True)
class Install:
    source: Path  # the copied package in <ws>/src/physai
    prefix: Path  # <ws>/install/physai
    share: Path  # <ws>/install/physai/share/physai
    site_packages: Path  # the folder holding the installed physai/ package


def _ignore(directory: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n in _ANYWHERE_SKIP or n.endswith(".egg-info")}
    if Path(directory) == REPO:
        skip |= _TOP_LEVEL_SKIP & set(names)
    return skip


def _colcon_env(ws: Path) -> dict[str, str]:
    """The caller's environment minus the venv: colcon must use the system Python and its setuptools."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PHYSAI_SHARE"} and not k.startswith("COLCON_")
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in {"/usr/bin", "/bin", venv_bin}]
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin", *rest])
    env["COLCON_HOME"] = str(ws / "colcon_home")  # no user defaults.yaml (e.g. --symlink-install)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _files_under(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    if not (COLCON.is_file() and os.access(COLCON, os.X_OK)):
        if os.geteuid() != 0:
            pytest.skip(f"{COLCON} not installed and not root (scripts/setup.sh installs colcon via apt as root)")
        pytest.fail(f"{COLCON} missing although running as root: scripts/setup.sh should have installed colcon")

    ws = tmp_path_factory.mktemp("colcon_ws")
    source = ws / "src" / PACKAGE
    shutil.copytree(REPO, source, ignore=_ignore, symlinks=True)
    cmd = [
        str(COLCON),
        "--log-base",
        str(ws / "log"),
        "build",
        "--base-paths",
        str(ws / "src"),
        "--build-base",
        str(ws / "build"),
        "--install-base",
        str(ws / "install"),
        "--event-handlers",
        "console_direct+",
    ]
    proc = subprocess.run(cmd, cwd=ws, env=_colcon_env(ws), capture_output=True, text=True, timeout=180, check=False)
    output = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, f"colcon build failed (rc={proc.returncode})\n{output}"

    prefix = ws / "install" / PACKAGE
    assert prefix.is_dir(), f"colcon did not install {PACKAGE} into {prefix}\n{output}"
    found = sorted((prefix / "lib").glob(f"python3*/*-packages/{PACKAGE}/__init__.py"))
    assert len(found) == 1, f"expected one installed {PACKAGE}/__init__.py under {prefix}/lib, got {found}\n{output}"
    return Install(source=source, prefix=prefix, share=prefix / "share" / PACKAGE, site_packages=found[0].parents[1])


def test_ament_index_marker_and_package_xml(install: Install) -> None:
    marker = install.prefix / "share" / "ament_index" / "resource_index" / "packages" / PACKAGE
    assert marker.is_file(), f"ament index marker missing: {marker}"
    installed_xml = install.share / "package.xml"
    assert installed_xml.is_file(), f"package.xml not installed: {installed_xml}"
    assert installed_xml.read_bytes() == (install.source / "package.xml").read_bytes()


def test_data_folders_installed_under_share(install: Install) -> None:
    missing = [rel for rel in REQUIRED_SHARE_FILES if not (install.share / rel).is_file()]
    assert not missing, f"not installed under {install.share}: {missing}"
    for top in DATA_DIRS:
        wanted = _files_under(install.source / top)
        if not wanted:  # e.g. launch/ or policies/ before anything lands there (git keeps no empty folders)
            continue
        assert (install.share / top).is_dir(), f"{top}/ has files in the source but share/{PACKAGE}/{top} is missing"
        lost = sorted(wanted - _files_under(install.share / top))
        assert not lost, f"{top}/ files not installed under share/{PACKAGE}/{top}: {lost}"


def test_every_python_module_installed(install: Install) -> None:
    source_modules = {str(p.relative_to(install.source / "src")) for p in (install.source / "src").rglob("*.py")}
    source_modules = {m for m in source_modules if m.startswith(f"{PACKAGE}/")}
    installed = {str(p.relative_to(install.site_packages)) for p in (install.site_packages / PACKAGE).rglob("*.py")}
    lost = sorted(source_modules - installed)
    assert not lost, f"modules not installed (sub-package without __init__.py?): {lost}"


def test_console_script_where_ros2_run_looks(install: Install, tmp_path: Path) -> None:
    exe = install.prefix / "lib" / PACKAGE / PACKAGE
    assert exe.is_file(), f"console script missing: {exe} (setup.cfg must send scripts to $base/lib/{PACKAGE})"
    assert os.access(exe, os.X_OK), f"console script not executable: {exe}"
    env = {k: v for k, v in os.environ.items() if k not in {"PHYSAI_SHARE"}}
    env["PYTHONPATH"] = str(install.site_packages)
    proc = subprocess.run(
        [sys.executable, str(exe), "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"{exe} --help failed (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    assert f"usage: {PACKAGE}" in proc.stdout, proc.stdout


def test_installed_package_finds_installed_share(install: Install, tmp_path: Path) -> None:
    """Import physai from the install (the venv's editable copy of the source must lose) and resolve data_root()."""
    code = (
        "import json, physai, physai.paths as p; "
        "print(json.dumps({'pkg': physai.__file__, 'paths': p.__file__, 'root': str(p.data_root())}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PHYSAI_SHARE", "PYTHONPATH", "PYTHONHOME"}}
    env["PYTHONPATH"] = str(install.site_packages)  # ahead of the venv's site-packages and its editable finder
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"import from the install failed\n{proc.stdout}\n{proc.stderr}"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("pkg", "paths"):
        assert Path(got[key]).resolve().is_relative_to(install.prefix.resolve()), (
            f"physai was imported from {got[key]}, not from the install {install.prefix}"
        )
    assert Path(got["root"]).resolve() == install.share.resolve(), (
        f"data_root() of the installed copy is {got['root']}, expected {install.share}"
    )
