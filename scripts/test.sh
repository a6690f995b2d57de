#!/usr/bin/env bash
# The test command: installs what a fresh Debian machine lacks, builds, runs
# every test (unit, format-vs-man-page, real-binary CLI tests), and checks
# that the generated man page and completions are current.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build
swift test 2>&1 | tee /tmp/daxfs-test.log
grep -q 'Test run with .* passed' /tmp/daxfs-test.log
bash scripts/gen-docs.sh --check
