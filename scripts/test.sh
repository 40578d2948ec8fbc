#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (skipped when up to date), sync checks (notebooks = package =
# student/), then pytest, whose summary line ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg PYTHONWARNINGS="ignore::FutureWarning"

# The notebooks are the source: cleaning and exporting them must change nothing that is committed.
# The student generator is `python -m learner_course.exercises.student` (0.2.0 on), `... exercises student` before;
# -W hides runpy's warning about running a module that the package's __init__ has already imported.
if [ -f learner_course/exercises/student.py ]; then
  STUDENT=(python -W ignore::RuntimeWarning:runpy -m learner_course.exercises.student)
else
  STUDENT=(python -W ignore::RuntimeWarning:runpy -m learner_course.exercises student)
fi
if [ -d .git ] || [ -f .git ]; then
  nbdev_clean && nbdev_export && "${STUDENT[@]}"
  if [ -n "$(git status --porcelain -- nbs learner_course student)" ]; then
    echo "Out of sync: nbdev_clean / nbdev_export / the student generator changed these files:" >&2
    git status --porcelain -- nbs learner_course student >&2
    echo "Fix: run them locally (see README, 'Contributing') and commit the result." >&2
    exit 1
  fi
fi
python -m pytest "$@"
