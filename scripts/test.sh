#!/usr/bin/env bash
# The test command: installs what a fresh Debian machine lacks, builds, runs
# every test (unit, format-vs-man-page, crash images, real-binary CLI
# tests, the concurrency tests again under ThreadSanitizer, fsck's fuzz
# tests again under AddressSanitizer), runs the
# exerciser for 100,000 operations, and checks that the
# generated man page and completions are current.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build
swift test 2>&1 | tee /tmp/daxfs-test.log
grep -q 'Test run with .* passed' /tmp/daxfs-test.log
# The concurrency tests (mappings against every block-changing operation)
# under ThreadSanitizer: a report fails the run.
swift test --sanitize=thread --scratch-path .build-tsan --filter DirectAccessTests 2>&1 | tee /tmp/daxfs-tsan.log
grep -q 'Test run with .* passed' /tmp/daxfs-tsan.log
if grep -q 'WARNING: ThreadSanitizer' /tmp/daxfs-tsan.log; then echo "ThreadSanitizer reported races"; exit 1; fi
# fsck's field fuzzing and random corruption (fewer seeds) under
# AddressSanitizer: opening or checking a fuzzed image must never touch
# memory it should not; a report fails the run.
# Leak detection is off: XCTest's own harness leaks two objects at exit.
ASAN_OPTIONS=detect_leaks=0 DAXFS_FSCK_SEEDS=50 swift test --sanitize=address --scratch-path .build-asan --filter 'FieldFuzzTests|RandomCorruptionTests' 2>&1 | tee /tmp/daxfs-asan.log
grep -q 'Test run with .* passed' /tmp/daxfs-asan.log
if grep -q 'ERROR: AddressSanitizer' /tmp/daxfs-asan.log; then echo "AddressSanitizer reported errors"; exit 1; fi
# The fsx-style exerciser, 100,000 operations in a release build.
swift build -c release --product daxfs-fsx
"$(swift build -c release --show-bin-path)/daxfs-fsx" --ops 100000
bash scripts/gen-docs.sh --check
