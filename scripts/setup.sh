#!/usr/bin/env bash
# Create .venv and install the core and the bundled plugins (editable), then compile the
# translations. Re-running is cheap: pip skips what is installed.
#   scripts/setup.sh          platform only
#   scripts/setup.sh --test   also test tools, the sample plugin and Debian's Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "UnionHub needs Python 3.11 or newer" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

targets=(-e .)
for plugin in plugins/*/; do
  [ -f "$plugin/setup.cfg" ] && targets+=(-e "$plugin")
done
if [ "${1:-}" = "--test" ]; then
  targets=(-e ".[test]" "${targets[@]:2}" -e tests/sample_plugin)
fi
"${PIP[@]}" "${targets[@]}"
.venv/bin/pybabel compile --statistics -d platform/unionhub/translations >/dev/null

if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "warning: chromium is not installed (apt-get install chromium chromium-driver);" \
         "browser tests will be skipped" >&2
  fi
fi
