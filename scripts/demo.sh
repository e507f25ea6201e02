#!/usr/bin/env bash
# The main job: the HTML report of the demo store (or of the store SELORAX_* points at).
# Extra arguments go to `selorax-analytics report`, e.g. `bash scripts/demo.sh --out /tmp/r`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
selorax-analytics report "$@"
