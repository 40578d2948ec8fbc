#!/usr/bin/env bash
# One-time set-up, safe to re-run: Fashion-MNIST files, a virtual environment, and the package with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. The data. Debian packages the official Fashion-MNIST files; elsewhere (Colab, macOS) the loader downloads them.
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${FASHION_MNIST_DIR:-}" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing the Debian package dataset-fashion-mnist..."
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
  else
    echo "No apt-get here: the lessons will download Fashion-MNIST on first use (or set FASHION_MNIST_DIR)."
  fi
fi

# 2. A virtual environment with the package and its dev tools (nbdev 2, pytest, a Jupyter kernel).
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and on its own: it is the big one, and a floor lets a capped or preinstalled build satisfy it.
.venv/bin/python -m pip install -q "torch>=2.1" "torchvision>=0.16"
.venv/bin/python -m pip install -q -e ".[dev]"
echo "Set-up done: $(.venv/bin/python -c 'import torch, learner_course; print("torch", torch.__version__, "| learner_course", learner_course.__version__)')"
