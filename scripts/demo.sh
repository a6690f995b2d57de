#!/usr/bin/env bash
# The main job on a default file-backed region: build daxfs, format a region
# on /dev/shm (or $DAXFS_REGION), and exercise it: files in and out, byte
# I/O, directories, fallocate modes, extent maps, usage, batch mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product daxfs >/dev/null
daxfs="$(swift build -c release --show-bin-path)/daxfs"
region=${DAXFS_REGION:-/dev/shm/daxfs-demo.img}
size=${DAXFS_SIZE:-1G}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$region"
step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$daxfs" mkfs "$region" --size "$size" --label demo
step "$daxfs" info "$region"
echo; echo "# a second mkfs is refused without --force (exit status 73):"
set +e; "$daxfs" mkfs "$region"; rc=$?; set -e
echo "exit status $rc"; [ $rc = 73 ]

head -c $((32 << 20)) /dev/urandom > "$work/random"
step "$daxfs" mkdir "$region" -p /data/in
step "$daxfs" put "$region" "$work/random" /data/in/random
step "$daxfs" get "$region" /data/in/random "$work/back"
step cmp "$work/random" "$work/back"
printf 'hello, persistent memory\n' > "$work/hello"
step "$daxfs" write "$region" /data/hello --offset 1M --from "$work/hello"
step "$daxfs" read "$region" /data/hello --offset 1M --length 25
step "$daxfs" bmap "$region" -v /data/hello
step "$daxfs" ls "$region" -l /data
step "$daxfs" stat "$region" /data/in/random --json
step "$daxfs" put "$region" "$work/random" /data/sparse
step "$daxfs" fallocate "$region" /data/sparse --punch-hole --offset 1M --length 4M -v
step "$daxfs" fallocate "$region" /data/sparse --collapse-range --offset 8M --length 2M -v
step "$daxfs" fallocate "$region" /data/sparse --insert-range --offset 0 --length 1M -v
step "$daxfs" fallocate "$region" /data/sparse --zero-range --offset 20M --length 64K --keep-size -v
step "$daxfs" bmap "$region" /data/sparse
step "$daxfs" io "$region" -c 'mkdir /batch' -c 'touch /batch/a /batch/b' -c 'mv /batch/a /batch/c' -c 'truncate /batch/c 4K' -c 'ls -l /batch'
step "$daxfs" rm "$region" -r /batch
step "$daxfs" df "$region"
step "$daxfs" info "$region" --json
step "$daxfs" devices
echo; echo "demo finished: $region is a daxfs region holding /data"
