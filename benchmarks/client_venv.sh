#!/bin/sh
# Create the client benchmarks' own virtualenv: our client's dependencies plus anaplan-sdk, the
# peer it is measured against. anaplan-sdk is installed here only, never in the project's venv.
# Usage: benchmarks/client_venv.sh [VENV_DIR]   (default /tmp/anaplan-bench-venv)
set -e
VENV="${1:-/tmp/anaplan-bench-venv}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "anaplan-sdk[oauth]==0.5.22" "httpx2>=2.16" "pydantic>=2.7,<3" isal
echo "$VENV"
