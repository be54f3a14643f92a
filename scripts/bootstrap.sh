# Shared set-up of the run scripts: create .venv with Python 3.11 or newer and install the
# pinned requirements into it. Sourced, not executed; leaves the virtual environment active.
set -euo pipefail

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$project_root"

python_command=${PYTHON:-}
if [ -z "$python_command" ]; then
  for candidate in python3 python3.13 python3.12 python3.11 python; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python_command=$candidate
      break
    fi
  done
fi
if [ -z "$python_command" ]; then
  echo "error: Python 3.11 or newer not found; install it or set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $python_command"
  "$python_command" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# A stamp of requirements.txt skips pip on later runs when nothing changed.
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing pinned requirements into .venv"
  python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi
