#!/usr/bin/env bash
# The main job on a default file-backed region: build daxfs, format a region
# on /dev/shm (or $DAXFS_REGION), and exercise it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product daxfs >/dev/null
daxfs="$(swift build -c release --show-bin-path)/daxfs"
region=${DAXFS_REGION:-/dev/shm/daxfs-demo.img}
size=${DAXFS_SIZE:-1G}
rm -f "$region"
step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$daxfs" mkfs "$region" --size "$size" --label demo
step "$daxfs" info "$region"
step "$daxfs" info "$region" --json
echo; echo "# a second mkfs is refused without --force (exit status 73):"
set +e; "$daxfs" mkfs "$region"; rc=$?; set -e
echo "exit status $rc"; [ $rc = 73 ]
step "$daxfs" mkfs "$region" --force --dry-run
step "$daxfs" devices
echo; echo "demo finished: $region is a formatted daxfs region"
