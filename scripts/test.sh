#!/usr/bin/env bash
# The whole test suite: lint, format, types, the import walls (import-linter), unit and
# integration tests, the notebooks (nbval) and the browser test. Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
if { [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q "Lohit Bengali"; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium and a Bengali font (the taka sign) for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
        fonts-lohit-beng-bengali >/dev/null
fi
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy selorax_analytics
echo "== import walls"; lint-imports
echo "== pytest"; pytest "$@"
