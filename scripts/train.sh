#!/usr/bin/env bash
# The main job from a fresh clone: set-up, then train the course's final Fashion-MNIST model and write its plots.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MPLBACKEND=Agg .venv/bin/learner-course-train "$@"
