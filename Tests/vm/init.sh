#!/bin/busybox sh
# /init of the VM test's initramfs: load the NVDIMM and device-DAX drivers,
# make sure /dev/dax0.0 exists with the requested alignment, run the scenario
# phase named on the kernel command line, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /tmp
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^vm\.$1=//p" | tail -1; }
echo "GUEST init: kernel $(uname -r), phase $(arg phase), align $(arg align)"
for ko in $(cat /etc/insmod.list); do insmod "$ko" || echo "GUEST insmod $ko failed"; done
i=0; while [ ! -e /sys/bus/nd/devices/region0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -e /sys/bus/nd/devices/region0 ] || { echo "GUEST no NVDIMM region appeared; driver messages:"; dmesg | grep -iE 'nfit|nvdimm|nd_|pmem|dax' | tail -20; }
export VM_PHASE=$(arg phase) VM_ALIGN=$(arg align)
# Values recorded by an earlier boot (RECORD lines), handed back by the host.
for kv in $(tr ' ' '\n' < /proc/cmdline | sed -n 's/^vm\.rec\.//p'); do export "REC_${kv%%=*}=${kv#*=}"; done
[ -n "$(arg have_fsck)" ] && export HAVE_FSCK=$(arg have_fsck)
[ -n "$(arg have_swap)" ] && export HAVE_SWAP=$(arg have_swap)
[ -n "$(arg longop)" ] && export LONGOP_SIZE=$(arg longop)
sh /scenario.sh
echo "GUEST scenario exited; powering off"
poweroff -f
