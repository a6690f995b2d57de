#!/bin/sh
# The VM test's scenario, run by the guest's /init on a real device-DAX
# (/dev/dax0.0 on an emulated NVDIMM). Tests/vm/run.sh boots the guest once
# per phase and reads the console:
#   STEP NAME            a step starts
#   ok NAME              it passed
#   FAIL NAME: reason    it failed (the scenario goes on; the phase fails)
#   NOT RUN NAME: why    a step that did not run (never counted as passed)
#   RECORD key=value     a value the host hands to the next boot of this image
#   PASS | FAIL          the phase's verdict, the last line
#
# Phases (VM_PHASE): first (format and exercise), second (a new boot of the
# same image: everything is still there), crash1 (a long fallocate that the
# host interrupts with kill -9 on qemu), crash2 (the boot after the kill).
#
# Commands that are not in daxfs yet are gated here; run.sh turns a gate on
# when the binary has the command (or when HAVE_FSCK/HAVE_SWAP are set).
HAVE_FSCK=${HAVE_FSCK:-0}   # daxfs fsck: -n must exit 0 on a clean region, -y 1 after repairing
HAVE_SWAP=${HAVE_SWAP:-0}   # daxfs swap-extents REGION F1 F2

DEV=/dev/dax0.0
PHASE=${VM_PHASE:-first}
ALIGN=${VM_ALIGN:-2M}
T=/tmp/vmtest
mkdir -p $T
FAILED=""
RAN=0

# ------------------------------------------------------------------ helpers
# step NAME CMD...: run CMD (usually a function below) as one named step.
# A function reports why it failed with `fail REASON` (which returns 1).
step() {
    name=$1; shift
    echo "STEP $name"
    REASON=""
    t0=$(cut -d' ' -f1 /proc/uptime)
    if "$@" 3>&1 > $T/step.out 2>&1; then
        echo "ok $name ($(echo "$(cut -d' ' -f1 /proc/uptime) $t0" | awk '{printf "%.1f", $1-$2}')s)"
    else
        rc=$?
        echo "FAIL $name: ${REASON:-exit status $rc}"
        tail -n 20 $T/step.out | sed 's/^/    | /'
        FAILED="$FAILED $name"
    fi
    RAN=$((RAN + 1))
}
fail() { REASON="$*"; return 1; }
say() { echo "$*" >&3; }   # to the console, also from inside a step
exec 3>&1
not_run() { echo "NOT RUN $1: $2"; }
# expect ACTUAL EXPECTED WHAT
expect() {
    [ -n "$2" ] || { fail "$3: nothing to compare with (the expected value is empty)"; return 1; }
    [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}
# jf KEY FILE: the value of the first "KEY" in a pretty-printed JSON document.
jf() { sed -n "s/^ *\"$1\" : \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\} *$/\1/p" "$2" | head -n 1; }
bytes() { case $1 in *K) echo $((${1%K} * 1024));; *M) echo $((${1%M} * 1048576));; *G) echo $((${1%G} * 1073741824));; *) echo "$1";; esac; }
sha() { sha256sum | cut -d' ' -f1; }
filesha() { daxfs get $DEV "$1" - | sha; }
fsize() { daxfs stat $DEV "$1" --json > $T/st.json && jf size $T/st.json; }
fblocks() { daxfs stat $DEV "$1" --json > $T/st.json && jf blocks $T/st.json; }
zerosha() { head -c "$1" /dev/zero | sha; }
SYS=/sys/bus/dax/devices/dax0.0
MiB=1048576
ALIGN_BYTES=$(bytes "$ALIGN")
case $ALIGN in 4K) UNIT=4096; BIGGER=2M;; 2M) UNIT=2097152; BIGGER=1G;; 1G) UNIT=1073741824; BIGGER="";; esac

finish() {
    if [ -n "$FAILED" ]; then
        echo "SUMMARY phase $PHASE align $ALIGN: $RAN steps, failed:$FAILED"
        echo "FAIL"
    else
        echo "SUMMARY phase $PHASE align $ALIGN: $RAN steps, all passed"
        echo "PASS"
    fi
}

# ------------------------------------------------------------------ device
# First boot of an image: turn the label-less raw namespace into a devdax
# namespace (the info block it writes makes later boots find it again).
ns_create() {
    mode=$(ndctl list -n namespace0.0 | sed -n 's/.*"mode":"\([a-z]*\)".*/\1/p')
    [ -n "$mode" ] || { ndctl list -RNu; fail "no namespace0.0 on the emulated NVDIMM (see the driver messages above)"; return 1; }
    ndctl create-namespace -f -e namespace0.0 -m devdax -a "$ALIGN" || { fail "ndctl create-namespace -m devdax -a $ALIGN failed"; return 1; }
    i=0; while [ ! -c $DEV ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    [ -c $DEV ] || fail "$DEV did not appear after create-namespace"
}
# Later boots: the kernel must find the devdax namespace by itself.
ns_persisted() {
    i=0; while [ ! -c $DEV ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    [ -c $DEV ] || { ndctl list -RNu; fail "$DEV did not come back on this boot"; return 1; }
    expect "$(cat $SYS/align)" "$ALIGN_BYTES" "sysfs align of dax0.0"
}
sysfs_align() {
    cat $SYS/size $SYS/align
    expect "$(cat $SYS/align)" "$ALIGN_BYTES" "sysfs align of dax0.0 (ndctl -a $ALIGN)"
}
devices_json() {
    daxfs devices --json > $T/dev.json || { fail "daxfs devices --json failed"; return 1; }
    cat $T/dev.json
    expect "$(jf chardev $T/dev.json)" "$DEV" "chardev" &&
    expect "$(jf size $T/dev.json)" "$(cat $SYS/size)" "size (against $SYS/size)" &&
    expect "$(jf align $T/dev.json)" "$(cat $SYS/align)" "align (against $SYS/align)" &&
    expect "$(jf mode $T/dev.json)" devdax "mode" &&
    expect "$(jf daxfs $T/dev.json)" "$1" "daxfs column"
}

# ------------------------------------------------------------------ first boot
mkfs_refuses_bigger_unit() {
    daxfs mkfs $DEV --alloc-unit "$BIGGER" > $T/out 2> $T/err; rc=$?
    cat $T/err
    [ $rc = 64 ] || { fail "mkfs --alloc-unit $BIGGER on a $ALIGN-aligned device: exit $rc, expected 64 (EINVAL)"; return 1; }
    grep -q "alignment" $T/err || { fail "the error does not mention the device alignment: $(cat $T/err)"; return 1; }
    say "    | refused (exit $rc): $(cat $T/err)"
    daxfs info $DEV > /dev/null 2>&1; rc=$?
    [ $rc = 65 ] || fail "after the refused mkfs, info exits $rc, expected 65 (no daxfs written)"
}
do_mkfs() {
    daxfs mkfs $DEV --label vmtest --json > $T/mkfs.json || { fail "mkfs $DEV failed"; return 1; }
    cat $T/mkfs.json
    expect "$(jf kind $T/mkfs.json)" devdax "kind" &&
    expect "$(jf alloc_unit $T/mkfs.json)" "$UNIT" "alloc unit picked from the $ALIGN device alignment" &&
    expect "$(jf region_size $T/mkfs.json)" "$(cat $SYS/size)" "region size" &&
    expect "$(jf persistence $T/mkfs.json)" "flush+fence" "persistence path (pmem_is_pmem on a device-DAX)"
}
info_json() {
    daxfs info $DEV --json > $T/info.json || { fail "info $DEV failed"; return 1; }
    cat $T/info.json
    expect "$(jf kind $T/info.json)" devdax "kind" &&
    expect "$(jf state $T/info.json)" clean "state" &&
    expect "$(jf label $T/info.json)" vmtest "label" &&
    expect "$(jf primary_superblock $T/info.json)" valid "primary superblock" &&
    expect "$(jf backup_superblock $T/info.json)" valid "backup superblock" &&
    expect "$(jf alloc_unit $T/info.json)" "$UNIT" "alloc unit" &&
    expect "$(jf region_size $T/info.json)" "$(cat $SYS/size)" "region size"
}
put_get() {
    # 3 MiB and 123 bytes: not a multiple of any unit.
    head -c $((3 * MiB + 123)) /dev/urandom > $T/r
    daxfs io $DEV -c "mkdir -p /data" -c "put $T/r /data/r" || { fail "mkdir + put"; return 1; }
    daxfs get $DEV /data/r $T/r.out || { fail "get"; return 1; }
    expect "$(sha < $T/r.out)" "$(sha < $T/r)" "sha256 of the file got back" &&
    expect "$(fsize /data/r)" $((3 * MiB + 123)) "size"
}

# Every fallocate mode, on /fa. The operations run in ONE `daxfs io` batch
# (under emulation each daxfs process costs about a second), each followed
# by stat --json and a copy of the whole file out to tmpfs ($T/fa.N after
# operation N). Then one step per mode applies the same change with dd to a
# shadow copy and compares size and every byte, and checks the block count.
# Offsets are multiples of 2M so that collapse and insert suit both units.
S=$T/shadow
dd_zero() { dd if=/dev/zero of=$S bs=$3 seek=$(($1 / $3)) count=$(($2 / $3)) conv=notrunc 2>/dev/null; }
FA_OPS="put $T/fa.0 /fa
fallocate /fa -o 8M -l 2M
fallocate /fa -n -o 10M -l 2M
fallocate /fa -p -o 2M -l 2M
fallocate /fa -z -o $((4 * MiB + 512)) -l $((2 * MiB - 1024))
fallocate /fa -c -o 6M -l 2M
fallocate /fa -i -o 2M -l 2M
write /fa --offset 6M --from $T/z
fallocate /fa -d"
fa_batch() {
    head -c $((8 * MiB)) /dev/urandom > $T/fa.0
    head -c $((2 * MiB)) /dev/zero > $T/z
    cp $T/fa.0 $S
    n=0
    echo "$FA_OPS" | while read -r op; do
        n=$((n + 1))
        printf '%s\nstat --json /fa\nget /fa %s\n' "$op" "$T/fa.$n"
    done > $T/fa.script
    daxfs io $DEV -f $T/fa.script > $T/fa.io 2> $T/fa.err; rc=$?
    grep '^  "blocks" : ' $T/fa.io | sed 's/[^0-9]//g' > $T/fa.blocks
    grep '^  "size" : ' $T/fa.io | sed 's/[^0-9]//g' > $T/fa.sizes
    [ $rc = 0 ] || fail "daxfs io -f (the fallocate batch) exits $rc: $(cat $T/fa.err)"
}
# check_fa N WHAT: the file after operation N equals the shadow
check_fa() {
    [ -f $T/fa.$1 ] || { fail "the batch stopped before '$(echo "$FA_OPS" | sed -n "$1p")': $(cat $T/fa.err)"; return 1; }
    expect "$(sed -n "$1p" $T/fa.sizes)" "$(wc -c < $S)" "size of /fa after $2" || return 1
    # busybox cmp reads a byte at a time (2 s for 8M under emulation); md5 is enough here
    set -- "$1" "$2" $(md5sum $T/fa.$1 $S | cut -d' ' -f1)
    [ "$3" = "$4" ] || { cmp $T/fa.$1 $S | head -n 3; fail "content of /fa after $2 differs from the expected (first difference above)"; }
}
blocks_at() { sed -n "$1p" $T/fa.blocks; }
fa_setup() { check_fa 1 put; }
fa_allocate() {          # past EOF: the size grows, the new range reads as zeroes
    head -c $((2 * MiB)) /dev/zero >> $S
    check_fa 2 allocate
}
fa_keep_size() {         # -n past EOF: blocks, no size change
    check_fa 3 keep-size || return 1
    [ "$(blocks_at 3)" -ge $(($(blocks_at 2) + 2 * MiB / 4096)) ] || fail "blocks $(blocks_at 2) -> $(blocks_at 3): --keep-size did not allocate 2M"
}
fa_punch() {             # aligned punch: zeroes, same size, fewer blocks
    dd_zero $((2 * MiB)) $((2 * MiB)) $MiB
    check_fa 4 punch || return 1
    [ "$(blocks_at 4)" -le $(($(blocks_at 3) - 2 * MiB / 4096)) ] || fail "blocks $(blocks_at 3) -> $(blocks_at 4): punch did not free 2M"
}
fa_zero_range() {        # unaligned at both ends
    dd_zero $((4 * MiB + 512)) $((2 * MiB - 1024)) 512
    check_fa 5 zero-range
}
fa_collapse() {
    { dd if=$S bs=$MiB count=6; dd if=$S bs=$MiB skip=8; } > $S.new 2>/dev/null && mv $S.new $S
    check_fa 6 collapse
}
fa_insert() {
    { dd if=$S bs=$MiB count=2; head -c $((2 * MiB)) /dev/zero; dd if=$S bs=$MiB skip=2; } > $S.new 2>/dev/null && mv $S.new $S
    check_fa 7 insert
}
fa_dig_holes() {         # 2M of written zeroes become a hole; the content does not change
    dd_zero $((6 * MiB)) $((2 * MiB)) $MiB
    check_fa 8 write-zeroes || return 1
    check_fa 9 dig-holes || return 1
    [ "$(blocks_at 9)" -le $(($(blocks_at 8) - 2 * MiB / 4096)) ] || fail "blocks $(blocks_at 8) -> $(blocks_at 9): dig-holes did not free the zeroed 2M"
}
read_slice() {           # daxfs read of an unaligned slice against the shadow
    expect "$(daxfs read $DEV /fa --offset $((MiB + 512)) --length $((3 * MiB)) | sha)" \
           "$(dd if=$S bs=512 skip=$(((MiB + 512) / 512)) count=$((3 * MiB / 512)) 2>/dev/null | sha)" "sha256 of a 3M read at 1M+512"
}
swap_extents() {         # whole files, sizes included (different sizes, so that shows)
    head -c $((2 * MiB)) /dev/urandom > $T/s1; head -c $((3 * MiB + 5)) /dev/urandom > $T/s2
    daxfs io $DEV -c "put $T/s1 /sw1" -c "put $T/s2 /sw2" || { fail "put /sw1 /sw2"; return 1; }
    daxfs swap-extents $DEV /sw1 /sw2 || { fail "daxfs swap-extents $DEV /sw1 /sw2 failed"; return 1; }
    daxfs io $DEV -c "get /sw1 $T/s1.out" -c "get /sw2 $T/s2.out" || { fail "get /sw1 /sw2"; return 1; }
    expect "$(sha < $T/s1.out)" "$(sha < $T/s2)" "/sw1 holds /sw2's old content" &&
    expect "$(sha < $T/s2.out)" "$(sha < $T/s1)" "/sw2 holds /sw1's old content" &&
    expect "$(wc -c < $T/s1.out)" $((3 * MiB + 5)) "size of /sw1 after the swap"
}
fsck_clean() {
    daxfs fsck -n $DEV; rc=$?
    [ $rc = 0 ] || fail "daxfs fsck -n $DEV exits $rc, expected 0"
}
# A corruption fsck must repair: random bytes inside the backup superblock,
# written through mmap by daxpoke (a device-DAX has no write(2), so dd
# cannot write to it).
fsck_repairs() {
    daxfs info $DEV --json > $T/info.json || { fail "info"; return 1; }
    off=$(jf backup_offset $T/info.json)
    daxpoke $DEV $((off + 64)) 16 random || { fail "daxpoke"; return 1; }
    daxfs fsck -n $DEV; rc=$?
    [ $rc != 0 ] || { fail "fsck -n exits 0 on a corrupted backup superblock"; return 1; }
    daxfs fsck -y $DEV; rc=$?
    [ $rc = 1 ] || { fail "daxfs fsck -y exits $rc, expected 1 (errors corrected)"; return 1; }
    daxfs fsck -n $DEV; rc=$?
    [ $rc = 0 ] || fail "daxfs fsck -n after the repair exits $rc, expected 0"
}
# Without fsck: the same corruption, seen by info, then the bytes put back.
corruption_seen() {
    daxfs info $DEV --json > $T/info.json || { fail "info"; return 1; }
    off=$(( $(jf backup_offset $T/info.json) + 64 ))
    dd if=/dev/zero of=$DEV bs=16 count=1 2>&1 && { fail "dd wrote to a device-DAX (expected: no write(2) there)"; return 1; }
    old=$(daxpoke $DEV $off 16 peek) || { fail "daxpoke peek"; return 1; }
    daxpoke $DEV $off 16 random || { fail "daxpoke random"; return 1; }
    [ "$(daxpoke $DEV $off 16 peek)" != "$old" ] || { fail "the bytes did not change"; return 1; }
    daxfs info $DEV --json > $T/info.json
    cat $T/info.json
    bad=$(jf backup_superblock $T/info.json)
    daxpoke $DEV $off 16 hex "$old" || { fail "daxpoke hex (restoring the bytes)"; return 1; }
    [ "$bad" != valid ] || { fail "info calls the corrupted backup superblock valid"; return 1; }
    daxfs info $DEV --json > $T/info.json
    expect "$(jf backup_superblock $T/info.json)" valid "backup superblock after the bytes were put back"
}
record_first() {
    echo "RECORD r=$(sha < $T/r)"
    echo "RECORD fa=$(sha < $S)"
    echo "RECORD fasize=$(wc -c < $S)"
    [ "$HAVE_SWAP" != 1 ] || [ ! -f $T/s1.out ] || echo "RECORD sw1=$(sha < $T/s1.out)"
}
unmounted_clean() {
    daxfs info $DEV --json > $T/info.json || { fail "info"; return 1; }
    expect "$(jf state $T/info.json)" clean "state after the last command exited"
}

# ------------------------------------------------------------------ second boot
data_survived() {
    daxfs io $DEV -c "get /data/r $T/r.out" -c "get /fa $T/fa.out" || { fail "get /data/r /fa"; return 1; }
    expect "$(sha < $T/r.out)" "$REC_r" "sha256 of /data/r" &&
    expect "$(sha < $T/fa.out)" "$REC_fa" "sha256 of /fa" &&
    expect "$(wc -c < $T/fa.out)" "$REC_fasize" "size of /fa" || return 1
    if [ -n "${REC_sw1:-}" ]; then
        daxfs get $DEV /sw1 $T/s1.out || { fail "get /sw1"; return 1; }
        expect "$(sha < $T/s1.out)" "$REC_sw1" "sha256 of /sw1 (swapped on the first boot)"
    fi
}
still_writable() {
    head -c $((MiB + 7)) /dev/urandom > $T/n
    daxfs put $DEV $T/n /after-boot || { fail "put"; return 1; }
    expect "$(filesha /after-boot)" "$(sha < $T/n)" "sha256 of a file written after the reboot" &&
    daxfs df $DEV
}

# ------------------------------------------------------------------ crash
crash_setup() {
    head -c $MiB /dev/urandom > $T/orig
    daxfs put $DEV $T/orig /orig || { fail "put /orig"; return 1; }
    say "RECORD orig=$(sha < $T/orig)"
    say "RECORD origsize=$MiB"
}
mount_after_kill() {
    daxfs info $DEV --json > $T/info.json || { fail "daxfs info after the kill"; return 1; }
    cat $T/info.json
    daxfs ls $DEV -l / || { fail "daxfs ls after the kill"; return 1; }
    daxfs stat $DEV /orig || fail "daxfs stat /orig after the kill"
}
before_or_after() {
    size=$(fsize /orig) || { fail "stat /orig"; return 1; }
    expect "$(daxfs read $DEV /orig --offset 0 --length $REC_origsize | sha)" "$REC_orig" "sha256 of the first $REC_origsize bytes (the data before the fallocate)" || return 1
    if [ "$size" = "$REC_origsize" ]; then
        say "STATE before (size $size)"
    elif [ "$size" = "$(bytes "$LONGOP_SIZE")" ]; then
        z=$(zerosha $MiB)
        for o in $REC_origsize $(( (size / 2) / MiB * MiB )) $((size - MiB)); do
            expect "$(daxfs read $DEV /orig --offset $o --length $MiB | sha)" "$z" "1M at $o of the extended file reads as zeroes" || return 1
        done
        say "STATE after (size $size)"
    else
        fail "size $size is neither the before ($REC_origsize) nor the after ($LONGOP_SIZE) state"
    fi
}

# ------------------------------------------------------------------ phases
gated_fsck_clean() {
    if [ "$HAVE_FSCK" = 1 ]; then step fsck-clean fsck_clean
    else not_run fsck-clean "HAVE_FSCK=0 (daxfs fsck not built yet, or turned off)"; fi
}
echo "SCENARIO phase $PHASE, align $ALIGN, HAVE_FSCK=$HAVE_FSCK HAVE_SWAP=$HAVE_SWAP, $(daxfs --version 2>&1)"
case $PHASE in
first)
    step namespace ns_create
    step sysfs-align sysfs_align
    step devices-json devices_json no
    if [ -n "$BIGGER" ]; then step mkfs-refuses-unit-above-alignment mkfs_refuses_bigger_unit; fi
    step mkfs do_mkfs
    step info-json info_json
    step devices-holds-daxfs devices_json yes
    step put-get put_get
    step fallocate-batch fa_batch
    step fallocate-setup fa_setup
    step fallocate-allocate fa_allocate
    step fallocate-keep-size fa_keep_size
    step fallocate-punch fa_punch
    step fallocate-zero-range fa_zero_range
    step fallocate-collapse fa_collapse
    step fallocate-insert fa_insert
    step fallocate-dig-holes fa_dig_holes
    step read-slice read_slice
    if [ "$HAVE_SWAP" = 1 ]; then step swap-extents swap_extents
    else not_run swap-extents "HAVE_SWAP=0 (daxfs swap-extents not built yet, or turned off)"; fi
    gated_fsck_clean
    if [ "$HAVE_FSCK" = 1 ]; then step fsck-repairs-corruption fsck_repairs
    else
        not_run fsck-repairs-corruption "HAVE_FSCK=0 (daxfs fsck not built yet, or turned off)"
        step corruption-seen-by-info corruption_seen
    fi
    step unmounted-clean unmounted_clean
    record_first
    ;;
second)
    step namespace-persisted ns_persisted
    step devices-holds-daxfs devices_json yes
    step info-clean unmounted_clean
    step data-survived data_survived
    gated_fsck_clean
    step still-writable still_writable
    ;;
crash1)
    step namespace ns_create
    step mkfs do_mkfs
    step crash-setup crash_setup
    if [ -n "$FAILED" ]; then finish; exit; fi
    echo "LONGOP START fallocate -o 0 -l $LONGOP_SIZE /orig"
    t0=$(cut -d' ' -f1 /proc/uptime)
    daxfs fallocate $DEV /orig -o 0 -l "$LONGOP_SIZE"; rc=$?
    echo "LONGOP END exit $rc after $(echo "$(cut -d' ' -f1 /proc/uptime) $t0" | awk '{printf "%.1f", $1-$2}')s"
    echo "WAITING for the host to kill the VM"
    sleep 1000
    exit
    ;;
crash2)
    step namespace-persisted ns_persisted
    step mount-after-kill mount_after_kill
    gated_fsck_clean
    step before-or-after before_or_after
    step still-writable still_writable
    ;;
*)
    echo "FAIL phase: unknown phase '$PHASE'"; FAILED=phase
    ;;
esac
finish
