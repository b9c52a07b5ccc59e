#!/usr/bin/env bash
# Retake docs/screenshot.png, the README's picture of the web page: the results for "Vu" in
# headless Chromium, saved by the browser test that searches for it.
set -euo pipefail
cd "$(dirname "$0")/.."
SEARCHIDX_SCREENSHOT="$PWD/docs/screenshot.png" \
    python -m pytest tests/test_browser.py -q -k typing_vu_shows_three_results
