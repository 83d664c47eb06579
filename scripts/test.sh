#!/usr/bin/env bash
# Set up and run every test: ruff, the suite on SQLite and — with CI=true, or when
# UNIONHUB_TEST_DATABASE_URL is set — the suite again on PostgreSQL with the integration
# tests. With CI=true a missing PostgreSQL fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH"

ruff check .

run_pytest() {
  # pytest exits 5 when it collected nothing: that is a failure here, never a pass.
  local rc=0
  pytest "$@" || rc=$?
  if [ "$rc" = 5 ]; then echo "no tests ran" >&2; return 1; fi
  return "$rc"
}

echo "== tests on SQLite =="
UNIONHUB_TEST_DATABASE_URL= run_pytest -q -p no:cacheprovider -m "not integration"

PG_URL=${UNIONHUB_TEST_DATABASE_URL:-}
if [ "${CI:-}" = "true" ] && [ -z "$PG_URL" ]; then
  PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
fi
if [ -n "$PG_URL" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  .venv/bin/python - "$PG_URL" <<'PY' || { echo "PostgreSQL unreachable at $PG_URL" >&2; exit 1; }
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as c:
    c.execute(text("select 1"))
PY
  echo "== tests on PostgreSQL (with integration tests) =="
  UNIONHUB_TEST_DATABASE_URL="$PG_URL" UNIONHUB_INTEGRATION=1 \
    run_pytest -q -p no:cacheprovider -m "not e2e"
fi
