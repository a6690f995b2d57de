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
expect() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
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
    daxfs mkdir $DEV -p /data || { fail "mkdir"; return 1; }
    daxfs put $DEV $T/r /data/r || { fail "put"; return 1; }
    daxfs get $DEV /data/r $T/r.out || { fail "get"; return 1; }
    want=$(sha < $T/r)
    expect "$(sha < $T/r.out)" "$want" "sha256 of the file got back" &&
    expect "$(daxfs cat $DEV /data/r | sha)" "$want" "sha256 of daxfs cat" &&
    expect "$(fsize /data/r)" $((3 * MiB + 123)) "size"
}

# The fallocate steps run on /fa and on a shadow copy in the guest's tmpfs,
# changed with dd the way each mode must change the file; after each step
# size and content (sha256 of get, and of a read slice) must match.
S=$T/shadow
dd_zero() { dd if=/dev/zero of=$S bs=$3 seek=$(($1 / $3)) count=$(($2 / $3)) conv=notrunc 2>/dev/null; }
check_fa() {
    expect "$(fsize /fa)" "$(wc -c < $S)" "size of /fa after $1" || return 1
    expect "$(filesha /fa)" "$(sha < $S)" "sha256 of /fa after $1" || return 1
    expect "$(daxfs read $DEV /fa --offset $((MiB + 512)) --length $((3 * MiB)) | sha)" \
           "$(dd if=$S bs=512 skip=$(((MiB + 512) / 512)) count=$((3 * MiB / 512)) 2>/dev/null | sha)" "sha256 of a read slice after $1"
}
fa_setup() {
    head -c $((16 * MiB)) /dev/urandom > $S
    daxfs put $DEV $S /fa || { fail "put /fa"; return 1; }
    check_fa put
}
fa_allocate() {          # past EOF: the size grows, the new range reads as zeroes
    daxfs fallocate $DEV /fa -o 16M -l 4M || { fail "fallocate -o 16M -l 4M"; return 1; }
    head -c $((4 * MiB)) /dev/zero >> $S
    check_fa allocate
}
fa_keep_size() {         # -n past EOF: blocks, no size change
    b0=$(fblocks /fa)
    daxfs fallocate $DEV /fa -n -o 20M -l 4M || { fail "fallocate -n"; return 1; }
    b1=$(fblocks /fa)
    [ "$b1" -ge $((b0 + 4 * MiB / 4096)) ] || { fail "blocks $b0 -> $b1: --keep-size did not allocate 4M"; return 1; }
    check_fa keep-size
}
fa_punch() {             # aligned punch: zeroes, same size, fewer blocks
    b0=$(fblocks /fa)
    daxfs fallocate $DEV /fa -p -o 2M -l 2M || { fail "fallocate -p"; return 1; }
    dd_zero $((2 * MiB)) $((2 * MiB)) $MiB
    b1=$(fblocks /fa)
    [ "$b1" -le $((b0 - 2 * MiB / 4096)) ] || { fail "blocks $b0 -> $b1: punch did not free 2M"; return 1; }
    check_fa punch
}
fa_zero_range() {        # unaligned on both ends
    daxfs fallocate $DEV /fa -z -o $((6 * MiB + 512)) -l $((3 * MiB - 1024)) || { fail "fallocate -z"; return 1; }
    dd_zero $((6 * MiB + 512)) $((3 * MiB - 1024)) 512
    check_fa zero-range
}
fa_collapse() {
    daxfs fallocate $DEV /fa -c -o 8M -l 2M || { fail "fallocate -c"; return 1; }
    { dd if=$S bs=$MiB count=8; dd if=$S bs=$MiB skip=10; } > $S.new 2>/dev/null && mv $S.new $S
    check_fa collapse
}
fa_insert() {
    daxfs fallocate $DEV /fa -i -o 4M -l 2M || { fail "fallocate -i"; return 1; }
    { dd if=$S bs=$MiB count=4; head -c $((2 * MiB)) /dev/zero; dd if=$S bs=$MiB skip=4; } > $S.new 2>/dev/null && mv $S.new $S
    check_fa insert
}
fa_dig_holes() {         # 2M of written zeroes become a hole; the content does not change
    head -c $((2 * MiB)) /dev/zero > $T/z
    daxfs write $DEV /fa --offset 12M --from $T/z || { fail "write zeroes"; return 1; }
    dd_zero $((12 * MiB)) $((2 * MiB)) $MiB
    b0=$(fblocks /fa)
    daxfs fallocate $DEV /fa -d || { fail "fallocate -d"; return 1; }
    b1=$(fblocks /fa)
    [ "$b1" -le $((b0 - 2 * MiB / 4096)) ] || { fail "blocks $b0 -> $b1: dig-holes did not free the zeroed 2M"; return 1; }
    daxfs bmap $DEV -v /fa
    check_fa dig-holes
}
swap_extents() {
    head -c $((2 * MiB)) /dev/urandom > $T/s1; head -c $((2 * MiB)) /dev/urandom > $T/s2
    daxfs put $DEV $T/s1 /sw1 && daxfs put $DEV $T/s2 /sw2 || { fail "put /sw1 /sw2"; return 1; }
    daxfs swap-extents $DEV /sw1 /sw2 || { fail "daxfs swap-extents $DEV /sw1 /sw2 failed"; return 1; }
    expect "$(filesha /sw1)" "$(sha < $T/s2)" "/sw1 holds /sw2's old content" &&
    expect "$(filesha /sw2)" "$(sha < $T/s1)" "/sw2 holds /sw1's old content"
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
record_first() {
    echo "RECORD r=$(sha < $T/r)"
    echo "RECORD fa=$(sha < $S)"
    echo "RECORD fasize=$(wc -c < $S)"
}
unmounted_clean() {
    daxfs info $DEV --json > $T/info.json || { fail "info"; return 1; }
    expect "$(jf state $T/info.json)" clean "state after the last command exited"
}

# ------------------------------------------------------------------ second boot
data_survived() {
    expect "$(filesha /data/r)" "$REC_r" "sha256 of /data/r" &&
    expect "$(filesha /fa)" "$REC_fa" "sha256 of /fa" &&
    expect "$(fsize /fa)" "$REC_fasize" "size of /fa"
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
    elif [ "$size" = "$LONGOP_SIZE" ]; then
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
    else not_run fsck-clean "daxfs fsck not built yet (HAVE_FSCK=0)"; fi
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
    step fallocate-setup fa_setup
    step fallocate-allocate fa_allocate
    step fallocate-keep-size fa_keep_size
    step fallocate-punch fa_punch
    step fallocate-zero-range fa_zero_range
    step fallocate-collapse fa_collapse
    step fallocate-insert fa_insert
    step fallocate-dig-holes fa_dig_holes
    if [ "$HAVE_SWAP" = 1 ]; then step swap-extents swap_extents
    else not_run swap-extents "daxfs swap-extents not built yet (HAVE_SWAP=0)"; fi
    gated_fsck_clean
    if [ "$HAVE_FSCK" = 1 ]; then step fsck-repairs-corruption fsck_repairs
    else not_run fsck-repairs-corruption "daxfs fsck not built yet (HAVE_FSCK=0)"; fi
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
    daxfs fallocate $DEV /orig -o 0 -l "$LONGOP_SIZE"
    echo "LONGOP END exit $?"
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
