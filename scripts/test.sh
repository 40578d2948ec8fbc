#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (skipped when up to date), sync checks (notebooks = package =
# student/), then pytest, whose summary line ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg PYTHONWARNINGS="ignore::FutureWarning"

# The notebooks are the source: cleaning and exporting them, writing student/ and the Colab cells must change nothing
# that is committed. (-W hides runpy's warning about running a module the package's __init__ already imported.)
if [ -d .git ] || [ -f .git ]; then
  python tools/colab_cells.py > /dev/null && nbdev_clean && nbdev_export \
    && python -W ignore::RuntimeWarning:runpy -m learner_course.exercises.student
  if [ -n "$(git status --porcelain -- nbs learner_course student)" ]; then
    echo "Out of sync: nbdev_clean / nbdev_export / the student generator / tools/colab_cells.py changed these files:" >&2
    git status --porcelain -- nbs learner_course student >&2
    echo "Fix: run them locally (see README, 'Contributing') and commit the result." >&2
    exit 1
  fi
fi
python -m pytest -n 2 "$@"   # two workers: most of the time goes to notebooks, one core each
