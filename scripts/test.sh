#!/usr/bin/env bash
# The test command: installs what a fresh Debian machine lacks, builds, runs
# every test (unit, format-vs-man-page, crash images, real-binary CLI
# tests, the concurrency tests again under ThreadSanitizer, fsck's fuzz
# tests again under AddressSanitizer), runs the exerciser for 100,000
# operations, runs the whole tool on a real device-DAX in a VM
# (Tests/vm/run.sh), and checks that the
# generated man page and completions are current.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build
swift test 2>&1 | tee /tmp/daxfs-test.log
grep -q 'Test run with .* passed' /tmp/daxfs-test.log
# The concurrency tests (mappings against every block-changing operation,
# and the two-thread load of a large checkpoint)
# under ThreadSanitizer: a report fails the run.
swift test --sanitize=thread --scratch-path .build-tsan --filter 'DirectAccessTests|InvalidateLockTests|aMountOfALargeCheckpoint|forkJoinRuns' 2>&1 | tee /tmp/daxfs-tsan.log
grep -q 'Test run with .* passed' /tmp/daxfs-tsan.log
if grep -q 'WARNING: ThreadSanitizer' /tmp/daxfs-tsan.log; then echo "ThreadSanitizer reported races"; exit 1; fi
# fsck's field fuzzing and random corruption (fewer seeds) under
# AddressSanitizer: opening or checking a fuzzed image must never touch
# memory it should not; a report fails the run.
# Leak detection is off: XCTest's own harness leaks two objects at exit.
ASAN_OPTIONS=detect_leaks=0 DAXFS_FSCK_SEEDS=50 swift test --sanitize=address --scratch-path .build-asan --filter 'FieldFuzzTests|RandomCorruptionTests' 2>&1 | tee /tmp/daxfs-asan.log
grep -q 'Test run with .* passed' /tmp/daxfs-asan.log
if grep -q 'ERROR: AddressSanitizer' /tmp/daxfs-asan.log; then echo "AddressSanitizer reported errors"; exit 1; fi
# The fsx-style exerciser, 100,000 operations in a release build. Built
# with --static-swift-stdlib like the VM test's daxfs: the flag is part of
# every compile command, so the same flags let the VM test reuse these
# release modules instead of compiling the package again.
swift build -c release --static-swift-stdlib --product daxfs-fsx
"$(swift build -c release --show-bin-path)/daxfs-fsx" --ops 100000
# daxfs end to end on a real device-DAX: qemu with an emulated NVDIMM,
# /dev/dax0.0 at 2M and 4K alignment, two boots of each image and a
# kill -9 in the middle of a fallocate (about 3 minutes under TCG).
bash Tests/vm/run.sh
bash scripts/gen-docs.sh --check
