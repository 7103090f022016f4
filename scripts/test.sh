#!/usr/bin/env bash
# The test command (README step 2; .ci/run calls it): install into .venv if needed, then
# ruff and mypy on bot/, then pytest. Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import bot, pytest, ruff, mypy" 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test,postgres,bench]'
  touch .venv/.installed
fi
echo "== ruff"; .venv/bin/ruff check bot tests bench
echo "== mypy"; .venv/bin/mypy bot
echo "== pytest"; .venv/bin/python -m pytest "$@"
