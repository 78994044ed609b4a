#!/usr/bin/env bash
# Regenerates the console screenshots in docs/console/ (linked from
# README.md and docs/console.md): runs the console's browser test, which
# walks every page in headless Chromium (Playwright from .venv-test, the
# system's chromium at $IDP_TEST_CHROMIUM, default /usr/bin/chromium) and,
# with IDP_SCREENSHOTS set, saves a full-page PNG of each main page there.
# Run scripts/test.sh once first so .venv-test has Playwright.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/docs/console"
mkdir -p "$out"
export IDP_SCREENSHOTS="$out"
export IDP_TEST_PYTHON="${IDP_TEST_PYTHON:-$PWD/.venv-test/bin/python}"
export IDP_TEST_CHROMIUM="${IDP_TEST_CHROMIUM:-/usr/bin/chromium}"
cargo test --test api the_console_in_a_real_browser -- --exact console_browser::the_console_in_a_real_browser
ls -1 "$out"
