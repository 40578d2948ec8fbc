#!/usr/bin/env bash
# The main job from a fresh clone: set-up (skipped when up to date), then train the course's final Fashion-MNIST model
# and write its plots. Options go to the trainer: bash scripts/train.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MPLBACKEND=Agg exec .venv/bin/learner-course-train "$@"
