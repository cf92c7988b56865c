#!/usr/bin/env bash
# Create .venv with recnas installed (editable). Keeps an existing torch (e.g. a
# user's CUDA build); otherwise installs the pinned CPU-friendly release, which
# is a local wheel on our machines, so a fresh set-up takes seconds.
set -euo pipefail
VENV=${VENV:-.venv}
TORCH_SPEC=${RECNAS_TORCH:-torch==2.13.0}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
fi
"$VENV/bin/python" -m pip install -q -e ".[dev]"
touch "$VENV/.recnas-installed"
