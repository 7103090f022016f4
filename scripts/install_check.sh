#!/usr/bin/env bash
# The README's install, exactly: a fresh `python3 -m venv` with the pip it bundles (no upgrade), then
# `pip install -e .`; then an HTML page must ingest. Catches dependencies that only a newer pip resolves
# (lxml_html_clean behind justext's misspelled extra). .ci/run calls it; takes ~1 minute with a warm pip cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m venv "$work/venv"
echo "install check: $("$work/venv/bin/pip" --version)"
"$work/venv/bin/pip" install -q -e . 2>&1 | grep -v "^WARNING: Location" || true
out=$(cd "$work" && BRIEFBOT_EMBEDDER=none BRIEFBOT_DATABASE_URL="sqlite:///$work/check.db" \
      "$work/venv/bin/briefbot" ingest "$OLDPWD/tests/fixtures/web/article.html" --json)
echo "$out" | "$work/venv/bin/python" -c '
import json, sys
report = json.load(sys.stdin)
new = report.get("new", 0)
if new < 1:
    sys.exit(f"install check FAILED: the HTML page was not stored: {json.dumps(report)[:600]}")
print(f"install check: ok, an HTML page ingested with the bundled pip ({new} new)")
'
