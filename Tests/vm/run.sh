#!/usr/bin/env bash
# The VM test: daxfs end to end on a real device-DAX.
#
# Boots a stock Debian kernel (the linux-image package, downloaded and
# extracted, never installed) in qemu with an emulated NVDIMM backed by a file
# on /dev/shm, turns it into /dev/dax0.0 with ndctl, and runs
# Tests/vm/scenario.sh on it from a busybox initramfs that carries the
# release daxfs binary (--static-swift-stdlib) and the shared libraries it
# needs. Three chains of boots, VM_JOBS chains at a time:
#   2M-first  2M-second    2 MiB-aligned device: format, files, every fallocate
#                          mode, [swap-extents], [fsck]; then a second boot of
#                          the same backing file: everything is still there
#   4K-first  4K-second    the same with a 4 KiB-aligned device
#   crash1    crash2       a long fallocate, qemu killed with kill -9 in the
#                          middle; the next boot mounts, [fsck is clean], and
#                          the file is in its before or after state
# The negative case (an allocation unit the device alignment cannot honour
# is refused with a clear error) runs in each first boot.
#
# Exit status: 0 when every boot printed PASS; 1 when a step failed; 2 when
# the VM could not be set up or started (the reason is printed).
#
# Environment:
#   DAXFS_VM_WORK=DIR   kernel cache, initramfs, consoles (default /tmp/daxfs-vm)
#   ACCEL=auto|kvm|tcg  auto: KVM when /dev/kvm is usable, else TCG
#   HAVE_FSCK, HAVE_SWAP=auto|0|1   auto: on when `daxfs` has the command
#   KEEP_IMAGES=1       keep the NVDIMM backing files after a passing run
#   ONLY="2M 4K crash"  run a subset of the scenarios
#   LONGOP_SIZE=1G      length of the interrupted fallocate (CRASH_IMG=2G region;
#                       4G in 6G with KVM)
#   KILL_WINDOW_MS=3000 qemu is killed KILL_MIN_MS=300 + random(0..this) ms after
#                       it starts (100 + random(0..1000) with KVM)
#   KILL_DELAY_MS=N     or exactly N ms after it starts
#   BOOT_TIMEOUT=150    seconds before a boot counts as hung
#   VM_JOBS=N           chains of boots at a time (default: the number of CPUs)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${DAXFS_VM_WORK:-/tmp/daxfs-vm}
ACCEL=${ACCEL:-auto}
HAVE_FSCK=${HAVE_FSCK:-auto}
HAVE_SWAP=${HAVE_SWAP:-auto}
KEEP_IMAGES=${KEEP_IMAGES:-0}
ONLY=${ONLY:-2M 4K crash}
IMG_SIZE=${IMG_SIZE:-512M}
CRASH_ALIGN=${CRASH_ALIGN:-2M}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-150}
GUEST_MEM=${GUEST_MEM:-512M}
IMGDIR=${IMGDIR:-/dev/shm/daxfs-vm-$$}

t_start=$(date +%s.%N)
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[vm %6ss] %s\n' "$(elapsed)" "$*"; }
die_setup() { log "VM TEST CANNOT RUN: $*"; log "FAIL (the VM test did not run; this is a failure, not a skip)"; exit 2; }

# ------------------------------------------------------------------ packages
# qemu, busybox, ndctl/daxctl for the guest, cpio and kmod to build the
# initramfs; the build dependencies too (scripts/deps.sh installs both).
bash scripts/deps.sh vm || die_setup "installing the Debian packages failed (scripts/deps.sh vm); need root or sudo and apt"
for tool in qemu-system-x86_64 cpio depmod modprobe gcc xz strip; do
    command -v "$tool" >/dev/null || die_setup "$tool is missing after installing packages"
done
[ -x /bin/busybox ] || die_setup "/bin/busybox is missing (Debian package busybox-static)"
for b in /usr/bin/ndctl /usr/bin/daxctl; do [ -x "$b" ] || die_setup "$b is missing (Debian packages ndctl, daxctl)"; done
mkdir -p "$WORK"

# ------------------------------------------------------------------ kernel
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { apt-get update -qq >/dev/null 2>&1 || true
                    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
[ -n "$KPKG" ] || die_setup "apt cannot resolve linux-image-amd64 to a kernel package"
KVER=${KPKG#linux-image-}
KDIR=$WORK/kernel-$KVER
if [ ! -f "$KDIR/ok" ]; then
    log "fetching $KPKG (downloaded and extracted, not installed)"
    rm -rf "$KDIR" "$WORK/dl" && mkdir -p "$KDIR" "$WORK/dl"
    (cd "$WORK/dl" && { apt-get download "$KPKG" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "$KPKG" >/dev/null; }; }) ||
        die_setup "apt-get download $KPKG failed"
    # Only the kernel image and the NVDIMM / device-DAX drivers.
    dpkg-deb --fsys-tarfile "$WORK"/dl/"${KPKG}"_*.deb | tar -x -C "$KDIR" --wildcards \
        "./boot/vmlinuz-$KVER" "./lib/modules/$KVER/modules.*" \
        "./lib/modules/$KVER/kernel/drivers/nvdimm" "./lib/modules/$KVER/kernel/drivers/dax" \
        "./lib/modules/$KVER/kernel/drivers/acpi/nfit" || die_setup "extracting $KPKG failed"
    depmod -b "$KDIR" "$KVER"
    rm -rf "$WORK/dl"
    touch "$KDIR/ok"
fi
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
# Under TCG the guest spends ~7 s decompressing the bzImage. Debian's kernel
# has a PVH entry point, so qemu boots the uncompressed ELF directly: the
# xz payload inside the bzImage, decompressed once here.
KERNEL=$VMLINUZ
if [ "${KERNEL_IMAGE:-vmlinux}" = vmlinux ]; then
    if [ ! -f "$KDIR/vmlinux" ]; then
        off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$VMLINUZ" | head -n 1 | cut -d: -f1 || true)
        if [ -n "$off" ]; then tail -c +$((off + 1)) "$VMLINUZ" | xz -dc > "$KDIR/vmlinux.tmp" 2>/dev/null || true; fi
        if [ "$(head -c 4 "$KDIR/vmlinux.tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
            mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
        else
            rm -f "$KDIR/vmlinux.tmp"; log "could not extract vmlinux from $VMLINUZ; booting the bzImage (slower)"
        fi
    fi
    [ -f "$KDIR/vmlinux" ] && KERNEL=$KDIR/vmlinux
fi

# ------------------------------------------------------------------ daxfs
log "building daxfs (release, --static-swift-stdlib)"
if ! swift build -c release --product daxfs --static-swift-stdlib > "$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log"; die_setup "building daxfs failed (above, and $WORK/build.log)"
fi
tail -n 1 "$WORK/build.log"
BIN="$(swift build -c release --show-bin-path)/daxfs"
[ -x "$BIN" ] || die_setup "the daxfs build produced no binary at $BIN"
gcc -O2 -static -Wall -o "$WORK/daxpoke" Tests/vm/daxpoke.c || die_setup "building Tests/vm/daxpoke.c failed"
subcommands=$("$BIN" --help | sed -n '/^SUBCOMMANDS:/,$p' | awk '{print $1}')
gate() {   # gate VALUE SUBCOMMAND: auto -> 1 when the binary has the subcommand
    if [ "$1" = auto ]; then if grep -qx "$2" <<< "$subcommands"; then echo 1; else echo 0; fi; else echo "$1"; fi
}
why_fsck="daxfs fsck not built yet"; [ "$HAVE_FSCK" = auto ] || why_fsck="HAVE_FSCK=$HAVE_FSCK"
why_swap="daxfs swap-extents not built yet"; [ "$HAVE_SWAP" = auto ] || why_swap="HAVE_SWAP=$HAVE_SWAP"
HAVE_FSCK=$(gate "$HAVE_FSCK" fsck)
HAVE_SWAP=$(gate "$HAVE_SWAP" swap-extents)

# ------------------------------------------------------------------ initramfs
log "building the initramfs"
R=$WORK/root
rm -rf "$R"; mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,lib64,run}
cp /bin/busybox "$R/bin/busybox"
cp "$WORK/daxpoke" "$R/bin/daxpoke"
strip -o "$R/bin/daxfs" "$BIN"
for b in /usr/bin/ndctl /usr/bin/daxctl "$BIN"; do
    [ "$b" = "$BIN" ] || cp "$b" "$R/bin/"
    for lib in $(ldd "$b" | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        [ -f "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; }
    done
done
echo 'root:x:0:0:root:/:/bin/sh' > "$R/etc/passwd"
ln -sf /proc/self/mounts "$R/etc/mtab"
: > "$R/etc/insmod.list"
for m in libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax; do
    modprobe -C /dev/null -d "$KDIR" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    rel=${ko#"$KDIR"}
    mkdir -p "$R$(dirname "$rel")"; cp "$ko" "$R$rel"; echo "$rel" >> "$R/etc/insmod.list"
done
[ -s "$R/etc/insmod.list" ] || die_setup "no NVDIMM modules found in $KPKG"
cp Tests/vm/init.sh "$R/init"; cp Tests/vm/scenario.sh "$R/scenario.sh"; chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet) > "$WORK/initrd.cpio"
log "initramfs $(du -h "$WORK/initrd.cpio" | cut -f1), modules: $(wc -l < "$R/etc/insmod.list"), kernel $KVER"

# ------------------------------------------------------------------ qemu
# /dev/kvm alone is not enough: a PVM-flavoured /dev/kvm (kvm_pvm, as on
# Firecracker-style hosts) cannot run a stock kernel. Require vmx/svm too.
if [ "$ACCEL" = auto ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
        ACCEL=kvm; why="/dev/kvm is usable"
    else
        ACCEL=tcg
        if [ ! -e /dev/kvm ]; then why="no /dev/kvm"
        elif [ ! -w /dev/kvm ]; then why="/dev/kvm is not writable by $(id -un)"
        else why="the CPU has no vmx/svm (/dev/kvm is $(ls /sys/module | grep -m1 '^kvm_' || echo kvm) without hardware virtualisation)"; fi
    fi
fi
case $ACCEL in
    kvm) ACCEL_ARGS=(-accel kvm -accel tcg -cpu max) ;;   # qemu falls back to TCG if KVM cannot start
    tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
    *) die_setup "ACCEL=$ACCEL: use auto, kvm or tcg" ;;
esac
log "accelerator: $ACCEL (${why:-ACCEL=$ACCEL})"
# The interrupted fallocate must outlast the kill delay: 1G takes 5-9 s
# under TCG here. With KVM it is some 10 times faster, so it gets a bigger
# region and an earlier kill (not measured here: this machine has no KVM).
if [ "$ACCEL" = kvm ]; then
    CRASH_IMG=${CRASH_IMG:-6G}; LONGOP_SIZE=${LONGOP_SIZE:-4G}; KILL_MIN_MS=${KILL_MIN_MS:-100}; KILL_WINDOW_MS=${KILL_WINDOW_MS:-1000}
else
    CRASH_IMG=${CRASH_IMG:-2G}; LONGOP_SIZE=${LONGOP_SIZE:-1G}; KILL_MIN_MS=${KILL_MIN_MS:-300}; KILL_WINDOW_MS=${KILL_WINDOW_MS:-3000}
fi
BIOS_ARGS=(); [ -f /usr/share/qemu/qboot.rom ] && BIOS_ARGS=(-bios /usr/share/qemu/qboot.rom)
mkdir -p "$IMGDIR" || die_setup "cannot create $IMGDIR for the NVDIMM backing files"

# The three chains of boots (2M, 4K, crash) run VM_JOBS at a time (default:
# the number of CPUs). Under TCG a guest mostly keeps one CPU busy, so on a
# 2-CPU machine two chains at once take about the time of one.
JOBS=${VM_JOBS:-$(nproc)}
RESDIR=$WORK/results-$$
rm -rf "$RESDIR"; mkdir -p "$RESDIR"
kill_qemus() { for f in "$RESDIR"/*.qpid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; true; }
trap kill_qemus EXIT
trap 'exit 130' INT TERM
for s in $ONLY; do case $s in 2M|4K|1G|crash) ;; *) die_setup "ONLY: unknown scenario '$s' (use 2M, 4K, 1G, crash)" ;; esac; done

# boot NAME IMAGE SIZE ALIGN PHASE [KILL]: one boot; sets BOOT_RESULT to
# PASS, FAIL, KILLED or NOSTART, BOOT_SECS to its wall time, and prints the
# scenario's lines.
boot() {
    local name=$1 img=$2 size=$3 align=$4 phase=$5 kill=${6:-} cons=$WORK/console-$1.log
    [ -f "$img" ] || truncate -s "$size" "$img"
    local recs
    recs=$(cat "$img.rec" 2>/dev/null | tr '\n' ' ' || true)
    local append="console=ttyS0 rdinit=/init panic=-1 loglevel=4 vm.phase=$phase vm.align=$align"
    append+=" vm.have_fsck=$HAVE_FSCK vm.have_swap=$HAVE_SWAP vm.longop=$LONGOP_SIZE $recs"
    log "boot $name: phase $phase, $align-aligned device, $size backing file $img"
    local t0; t0=$(date +%s.%N)
    qemu-system-x86_64 "${ACCEL_ARGS[@]}" "${BIOS_ARGS[@]}" -machine pc,nvdimm=on -smp 2 \
        -m "$GUEST_MEM,slots=2,maxmem=8G" \
        -object "memory-backend-file,id=mem0,share=on,mem-path=$img,size=$size,align=2M" \
        -device nvdimm,id=nvdimm0,memdev=mem0 \
        -nodefaults -no-user-config -nographic -serial stdio -monitor none -no-reboot -net none \
        -kernel "$KERNEL" -initrd "$WORK/initrd.cpio" -append "$append" > "$cons" 2>&1 &
    local pid=$! killed=0 deadline start_seen=""
    echo "$pid" > "$RESDIR/$name.qpid"
    deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
    while kill -0 "$pid" 2>/dev/null; do
        if [ -n "$kill" ] && [ -z "$start_seen" ] && grep -aq '^LONGOP START' "$cons"; then
            start_seen=$(date +%s.%N)
            # a random delay inside the fallocate (KILL is the upper bound in ms)
            local ms=${KILL_DELAY_MS:-$(( KILL_MIN_MS + RANDOM % kill ))}
            sleep "$(awk -v m="$ms" 'BEGIN { print m / 1000 }')"
            if grep -aq '^LONGOP END' "$cons"; then
                log "!!! boot $name: the fallocate had already finished when the kill came (${ms} ms after its start):"
                log "!!! this run checks a kill after the operation, not in its middle; raise LONGOP_SIZE on a fast (KVM) host !!!"
            else
                log "boot $name: kill -9 qemu ${ms} ms after LONGOP START, the fallocate still running"
            fi
            kill -9 "$pid" 2>/dev/null || true
            killed=1
            break
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "boot $name: no result after ${BOOT_TIMEOUT}s; killing qemu"
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    local qrc=0; wait "$pid" 2>/dev/null || qrc=$?
    rm -f "$RESDIR/$name.qpid"
    BOOT_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    tr -d '\r' < "$cons" > "$cons.txt"
    # the scenario's lines, indented
    grep -aE '^(STEP|ok|FAIL|NOT RUN|RECORD|STATE|LONGOP|SUMMARY|PASS$|    \| )' "$cons.txt" | sed 's/^/    /' || true
    grep -a '^RECORD ' "$cons.txt" | sed 's/^RECORD /vm.rec./' >> "$img.rec" || true
    { grep -a '^NOT RUN ' "$cons.txt" || true; } | while read -r l; do log "!!! ${l} !!!"; done
    if grep -aq '^PASS$' "$cons.txt"; then BOOT_RESULT=PASS
    elif grep -aq '^FAIL' "$cons.txt"; then BOOT_RESULT=FAIL
    elif [ $killed = 1 ] && ! grep -aq '^FAIL' "$cons.txt"; then BOOT_RESULT=KILLED
    else
        BOOT_RESULT=NOSTART
        if grep -aq 'qemu-system' "$cons.txt"; then
            log "boot $name: qemu could not start the VM: $(grep -a 'qemu-system' "$cons.txt" | head -3)"
        elif ! grep -aq 'GUEST init' "$cons.txt"; then
            log "boot $name: the guest never reached /init (qemu exit $qrc)"
        else
            log "boot $name: the scenario did not finish (qemu exit $qrc)"
        fi
        log "boot $name: last console lines:"; tail -n 40 "$cons.txt" | sed 's/^/    /'
    fi
    if [ "$BOOT_RESULT" = FAIL ]; then
        local kmsg
        kmsg=$(grep -aE '^\[ *[0-9]+\.[0-9]+\]' "$cons.txt" | grep -aiE 'nfit|nvdimm|nd_|pmem|dax' | tail -n 10 || true)
        [ -z "$kmsg" ] || { log "boot $name: the guest kernel's NVDIMM / DAX messages:"; sed 's/^/    /' <<< "$kmsg"; }
    fi
    log "boot $name: $BOOT_RESULT in ${BOOT_SECS}s"
}

# chain S: the boots of one scenario, in order; "NAME RESULT SECONDS EXPECTED"
# lines go to $RESDIR/S.res.
chain() {
    local s=$1 img res=$RESDIR/$1.res
    case $s in
    2M|4K|1G)
        img=$IMGDIR/nvdimm-$s.img; rm -f "$img" "$img.rec"
        boot "$s-first" "$img" "$IMG_SIZE" "$s" first; echo "$s-first $BOOT_RESULT $BOOT_SECS PASS" >> "$res"
        [ "$BOOT_RESULT" != NOSTART ] || return 0
        boot "$s-second" "$img" "$IMG_SIZE" "$s" second; echo "$s-second $BOOT_RESULT $BOOT_SECS PASS" >> "$res"
        ;;
    crash)
        img=$IMGDIR/nvdimm-crash.img; rm -f "$img" "$img.rec"
        boot crash1 "$img" "$CRASH_IMG" "$CRASH_ALIGN" crash1 "$KILL_WINDOW_MS"; echo "crash1 $BOOT_RESULT $BOOT_SECS KILLED" >> "$res"
        [ "$BOOT_RESULT" != NOSTART ] || return 0
        boot crash2 "$img" "$CRASH_IMG" "$CRASH_ALIGN" crash2; echo "crash2 $BOOT_RESULT $BOOT_SECS PASS" >> "$res"
        ;;
    esac
}

log "running the scenarios $ONLY, $JOBS at a time"
for s in $ONLY; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    chain "$s" > "$RESDIR/$s.log" 2>&1 &
done
wait || true

VERDICT=0
RESULTS=()
line=""
total_boot=0
for s in $ONLY; do
    log "---- scenario $s"
    cat "$RESDIR/$s.log"
    if [ ! -s "$RESDIR/$s.res" ]; then
        log "scenario $s: no boot result (the harness itself failed; see above)"; VERDICT=2; continue
    fi
    while read -r name result secs want; do
        RESULTS+=("$name=$result")
        line+=" $name ${secs}s;"
        total_boot=$(awk -v a="$total_boot" -v b="$secs" 'BEGIN { print a + b }')
        if [ "$result" = NOSTART ]; then VERDICT=2
        elif [ "$result" != "$want" ] && [ "$VERDICT" = 0 ]; then VERDICT=1; fi
    done < "$RESDIR/$s.res"
done

# ------------------------------------------------------------------ summary
log "boots:$line sum of boots ${total_boot}s ($JOBS at a time); whole VM test $(elapsed)s (budget 300s), accel $ACCEL"
[ "$HAVE_FSCK" = 1 ] || log "!!! NOT RUN: fsck steps ($why_fsck) !!!"
[ "$HAVE_SWAP" = 1 ] || log "!!! NOT RUN: swap-extents step ($why_swap) !!!"
if awk -v t="$(elapsed)" 'BEGIN { exit !(t > 300) }'; then log "WARNING: the VM test took more than its 5-minute budget"; fi
log "results: ${RESULTS[*]}"
if [ $VERDICT = 0 ]; then
    [ "$KEEP_IMAGES" = 1 ] && log "backing files kept in $IMGDIR" || rm -rf "$IMGDIR"
    log "PASS"
else
    if [ $VERDICT = 1 ] || [ "$KEEP_IMAGES" = 1 ]; then log "backing files kept in $IMGDIR"; else rm -rf "$IMGDIR"; fi
    log "consoles in $WORK/console-*.log.txt"
    [ $VERDICT = 2 ] && log "FAIL: the VM could not start (see above)" || log "FAIL"
fi
rm -rf "$RESDIR"
exit $VERDICT
