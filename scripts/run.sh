#!/usr/bin/env bash
# Set up and serve UnionHub on the embedded default: SQLite and files under ./instance,
# secrets generated on first run, demo data seeded into an empty database.
#   scripts/run.sh [--port 5000] [--host 127.0.0.1]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
unionhub db upgrade
# On the first run, enable the bundled plugins (later runs keep whatever the admin chose).
if [ ! -f instance/.bundled-plugins-enabled ]; then
  for plugin in plugins/*/; do
    unionhub plugins enable "$(basename "$plugin")"
  done
  mkdir -p instance && touch instance/.bundled-plugins-enabled
fi
unionhub demo --if-empty
exec unionhub serve "$@"
