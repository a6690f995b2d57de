#!/usr/bin/env bash
# Installs the Debian packages daxfs builds against, when they are missing:
# libpmem (mapping and persistence), libdaxctl and libndctl (device-DAX
# discovery), pkg-config (used by SwiftPM to find them). With the argument
# `vm`, also what the VM test (Tests/vm/run.sh) needs: qemu, a static
# busybox, ndctl and daxctl for the guest, cpio and kmod to build its
# initramfs. Sourced by the other scripts; safe to run again.
set -euo pipefail
pkgs=(libpmem-dev libdaxctl-dev libndctl-dev pkg-config)
[ "${1:-}" = vm ] && pkgs+=(qemu-system-x86 busybox-static ndctl daxctl cpio kmod xz-utils)
need=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
