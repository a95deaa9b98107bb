#!/usr/bin/env bash
# Install vae-atlas into ./.venv (CPU PyTorch first, so nothing pulls a CUDA build), with the test
# extras (which include the tensorboard, mlflow and onnx extras, so their tests run), and the
# Debian chromium used by the browser tests when apt-get is available.
#   ./setup.sh            install
#   VENV=path ./setup.sh  install into another virtual environment
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# torch first: installed alone, 2.13.0 resolves to the local CPU build; anything that depends on
# torch installed before it would pull the newest CUDA build (several GB).
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
"$VENV/bin/python" -m pip install --quiet -e ".[test]"

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian chromium for the browser tests ..."
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi
echo "vae-atlas installed in $VENV (activate with: . $VENV/bin/activate)"
