#!/usr/bin/env bash
# Create the virtual environment and install everything physai needs, on a fresh Debian 12 machine.
#   scripts/setup.sh [VENV]    (default .venv)
# System packages (apt, only those missing; needs root): Mesa EGL/OSMesa for offscreen rendering, colcon
# for the ROS packaging check. Python packages: requirements.txt (pinned), then physai itself (editable).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"

APT_PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6
              colcon python3-colcon-core python3-colcon-ros python3-colcon-python-setup-py
              python3-colcon-package-selection python3-colcon-recursive-crawl python3-colcon-output
              python3-colcon-library-path python3-setuptools)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "physai setup: apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "physai setup: please install with apt: ${missing[*]}" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
"$VENV/bin/python" -m pip install -q --prefer-binary -r requirements.txt
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
echo "physai setup: $VENV ready"
