#!/usr/bin/env bash
# Set-up: the Fashion-MNIST files, a virtual environment in .venv/ with PyTorch, the package and its dev tools.
# It runs again only when settings.ini, setup.py or a file in scripts/ changed since it last succeeded (their hash is
# kept in .venv/.setup-hash), so train.sh, test.sh and jupyter.sh start at once on later runs.
# Quiet: the installers' output goes to .venv/setup.log, shown only when something fails.
#   bash scripts/setup.sh            set up if needed
#   bash scripts/setup.sh --force    set up again even if nothing changed
#   bash scripts/setup.sh --check    only say whether it is up to date (exit status 0) or not (1)
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=.venv/.setup-hash
LOG=.venv/setup.log
if command -v sha256sum >/dev/null 2>&1; then SHA=(sha256sum); else SHA=(shasum -a 256); fi   # Linux; macOS
setup_hash() { find settings.ini setup.py scripts -type f ! -name '*.pyc' | LC_ALL=C sort | xargs "${SHA[@]}" | "${SHA[@]}" | cut -d' ' -f1; }
up_to_date() { [ -x .venv/bin/python ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(setup_hash)" ]; }
if [ "${1:-}" = "--check" ]; then up_to_date; exit; fi

# 1. The data. Debian packages the official Fashion-MNIST files; elsewhere (Colab, macOS) the loader downloads them.
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${FASHION_MNIST_DIR:-}" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing the Debian package dataset-fashion-mnist (Fashion-MNIST, 30 MB)..."
    apt_log=$(mktemp)
    if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist; } >"$apt_log" 2>&1; then
      cat "$apt_log" >&2
      echo "Set-up failed: could not install the Debian package dataset-fashion-mnist (its output is above)." >&2
      echo "What to do: run 'sudo apt-get install dataset-fashion-mnist' yourself, or set FASHION_MNIST_DIR to a folder" >&2
      echo "with the four Fashion-MNIST .gz files, then run the command again." >&2
      exit 1
    fi
    rm -f "$apt_log"
  else
    echo "No apt-get here: the lessons will download Fashion-MNIST on first use (or set FASHION_MNIST_DIR)."
  fi
fi

# 2. Up to date? Then there is nothing to do.
if [ "${1:-}" != "--force" ] && up_to_date; then exit 0; fi
want=$(setup_hash)

# 3. A virtual environment with the package and its dev tools (nbdev 2, pytest, a Jupyter kernel, JupyterLab).
fail() {  # $1: the step that failed, $2: what to do
  echo "Set-up failed while $1." >&2
  echo "---- end of $LOG (the whole log is in that file) ----" >&2
  grep -v "^WARNING: Location '.*' is ignored" "$LOG" | tail -n 40 >&2 || true
  echo "----" >&2
  echo "What to do: $2" >&2
  echo "Then run the command again: the set-up starts over by itself. To rebuild from scratch: rm -rf .venv" >&2
  exit 1
}
step() {  # $1: what it does (for the message), $2: what to do if it fails, then the command
  local what=$1 todo=$2; shift 2
  echo "==> $what: $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 || fail "$what" "$todo"
}
PY=${PYTHON:-python3}
mkdir -p .venv && rm -f "$STAMP" && : >"$LOG"
if [ -x .venv/bin/python ]; then msg="Updating .venv/ (settings.ini, setup.py or scripts/ changed, or the last set-up did not finish"
else msg="Setting up .venv/ (the first time takes a few minutes"; fi
echo "$msg; the log is in $LOG)..."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
NET="check the network connection to the package index (PyPI) and the error above"
[ -x .venv/bin/python ] || step "creating the virtual environment" \
  "install Python 3.9+ with its venv module (Debian/Ubuntu: sudo apt-get install python3-venv), or set PYTHON=/path/to/python3" \
  "$PY" -m venv .venv
step "updating pip" "$NET" .venv/bin/python -m pip install --upgrade pip
# torch first and on its own: it is the big one, and its floor (read from settings.ini) lets a preinstalled or capped
# build satisfy it.
read -r -a TORCH <<<"$(.venv/bin/python -c "
import configparser, shlex
c = configparser.ConfigParser(delimiters=['=']); c.read('settings.ini', encoding='utf-8')
print(' '.join(r for r in shlex.split(c['DEFAULT']['requirements']) if r.startswith(('torch>', 'torchvision>'))))")"
[ "${#TORCH[@]}" -eq 2 ] || fail "reading the torch and torchvision floors from settings.ini" \
  "settings.ini's requirements must contain torch>=... and torchvision>=..."
step "installing PyTorch (${TORCH[*]})" "$NET" .venv/bin/python -m pip install "${TORCH[@]}"
step "installing the package and its dev tools (pip install -e \".[dev]\")" "$NET" \
  .venv/bin/python -m pip install -e ".[dev]"
step "checking the installed packages (pip check)" \
  "two installed packages disagree (see above): adjust the requirements in settings.ini" .venv/bin/python -m pip check
versions=$(.venv/bin/python -c 'import torch, learner_course; print("torch", torch.__version__, "| learner_course", learner_course.__version__)' 2>>"$LOG") \
  || fail "importing the package" "the package does not import (see the traceback above)"
echo "$want" >"$STAMP"
echo "Set-up done: $versions"
