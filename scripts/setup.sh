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

if [ "${1:-}" = "--test" ]; then
  # Browser tests: Debian's Chromium (never a downloaded browser) and a Chinese font so
  # screenshots are readable.
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
  fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing ${missing[*]} for the browser tests"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "warning: missing ${missing[*]} (apt-get install them); browser tests may skip" >&2
    fi
  fi
fi
