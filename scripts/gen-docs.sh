#!/usr/bin/env bash
# Regenerates man/daxfs.8 and completions/daxfs.{bash,zsh,fish} from the
# argument parser (swift-argument-parser's generate-manual plugin and the
# binary's --generate-completion-script). With --check, regenerates into a
# temporary directory and fails when the committed files are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS_DATE=2026-11-21
check=0
[ "${1:-}" = "--check" ] && check=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swift package plugin generate-manual --date "$DOCS_DATE" --section 8 --authors "daxfs developers" >/dev/null
cp .build/plugins/GenerateManual/outputs/daxfs/daxfs.8 "$out/daxfs.8"
swift build --product daxfs >/dev/null
bin="$(swift build --show-bin-path)/daxfs"
for sh in bash zsh fish; do "$bin" --generate-completion-script "$sh" > "$out/daxfs.$sh"; done
if [ $check = 1 ]; then
    stale=0
    diff -u man/daxfs.8 "$out/daxfs.8" >/dev/null || { echo "man/daxfs.8 is stale: run scripts/gen-docs.sh"; stale=1; }
    for sh in bash zsh fish; do
        diff -u "completions/daxfs.$sh" "$out/daxfs.$sh" >/dev/null || { echo "completions/daxfs.$sh is stale: run scripts/gen-docs.sh"; stale=1; }
    done
    [ $stale = 0 ] && echo "man page and completions are up to date"
    exit $stale
fi
mkdir -p man completions
cp "$out/daxfs.8" man/daxfs.8
for sh in bash zsh fish; do cp "$out/daxfs.$sh" "completions/daxfs.$sh"; done
echo "wrote man/daxfs.8 and completions/daxfs.{bash,zsh,fish}"
