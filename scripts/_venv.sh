# Sourced by the scripts: create .venv (Python >= 3.11) and install the project into it.
VENV="${VENV:-.venv}"
pick_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "no Python >= 3.11 found (set PYTHON=...)" >&2
    return 1
}
if [ ! -x "$VENV/bin/python" ]; then
    "$(pick_python)" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)-${EXTRAS:-all,dev}"
if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[${EXTRAS:-all,dev}]"
    touch "$stamp"
fi
