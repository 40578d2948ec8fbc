#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, sync checks (notebooks = package = student/), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg PYTHONWARNINGS="ignore::FutureWarning"

# The notebooks are the source: cleaning and exporting them must change nothing that is committed.
if [ -d .git ]; then
  nbdev_clean && nbdev_export && python -c "from learner_course.exercises import main; main(['student'])"
  if [ -n "$(git status --porcelain -- nbs learner_course student)" ]; then
    echo "Out of sync: nbdev_clean / nbdev_export / the student generator changed these files:" >&2
    git status --porcelain -- nbs learner_course student >&2
    echo "Fix: run them locally (see README, 'Contributing') and commit the result." >&2
    exit 1
  fi
fi
python -m pytest "$@"
