#!/usr/bin/env bash
# The course in JupyterLab: set-up (skipped when up to date), then JupyterLab opened on nbs/ (the lessons; the
# exercises to fill in are in student/). JupyterLab prints the address to open, with its access token.
#   bash scripts/jupyter.sh                                        a browser tab opens (when there is a display)
#   bash scripts/jupyter.sh --no-browser --ip 0.0.0.0 --port 8888  a remote or headless machine: open the printed
#       address, or tunnel it: ssh -L 8888:localhost:8888 you@machine, then open the printed localhost address
# Any other JupyterLab option works too (.venv/bin/jupyter lab --help-all). Stop it with Ctrl+C (twice).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ARGS=(--ServerApp.root_dir="$PWD" --LabApp.default_url=/lab/tree/nbs)
# No display (ssh, container, CI): do not let Python start a text-mode browser in this terminal.
if [ "$(uname)" != Darwin ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then ARGS+=(--no-browser); fi
# Containers and CI machines often run as root, which JupyterLab refuses unless told.
if [ "$(id -u)" -eq 0 ]; then ARGS+=(--allow-root); fi
exec jupyter lab "${ARGS[@]}" "$@"
