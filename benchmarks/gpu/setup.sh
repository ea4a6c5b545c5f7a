#!/usr/bin/env bash
# Sourced by the GPU scripts: what a bare machine (a GPU, Python 3.10+, pip's registry, nothing from a model hub)
# needs before they run. Sets PY to the virtual environment's python.
#   - a C compiler and Python's headers: llama-cpp-python builds from source, and Triton / torch Inductor compile
#     their launchers and kernels at run time;
#   - a virtual environment ($VENV) with medo1 and the extras named in $EXTRAS (default: test).
# Re-running it skips what is there already.
set -euo pipefail
need_build_tools=0
command -v cc >/dev/null || need_build_tools=1
python3 - <<'PYEOF' || need_build_tools=1
import os, sysconfig, sys
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PYEOF
python3 -c "import ensurepip, venv" 2>/dev/null || need_build_tools=1
if [ "$need_build_tools" = 1 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential python3-dev "python${pyver}-venv" \
      >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential python3-dev python3-venv >/dev/null
  else
    echo "medo1: needs a C compiler (gcc), Python's headers (python3-dev) and venv; install them, or run as root with apt-get" >&2
    exit 1
  fi
fi
VENV=${VENV:-$HOME/venvs/medo1-${EXTRAS:-test}}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[${EXTRAS:-test}]"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
