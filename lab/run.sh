#!/usr/bin/env bash
# Boots the Xen lab in QEMU (software emulation) with a payload disk built
# from STAGING (see lab/stage.sh), mounted at /novaxl in dom0.
#
#   lab/run.sh --check STAGING   run the lab tests; print PASS/FAIL/SKIP lines
#                                and "N passed, N failed, N skipped, N retried"; exit
#                                non-zero on any failure, missing LAB-DONE or
#                                timeout
#   lab/run.sh --demo STAGING    run /novaxl/lab/demo.sh in dom0; exit with its
#                                status
#   lab/run.sh --shell STAGING   interactive dom0 shell on the serial console
#                                (Ctrl-] x quits QEMU; Ctrl-A x3 is Xen's)
#
# Environment (defaults):
#   NXL_LAB_OUT=$PWD/lab-out      serial log (lab-serial.log), payload image
#   NXL_LAB_TIMEOUT=3600          bound of the whole QEMU run, seconds
#   NXL_LAB_TEST_TIMEOUT=480      bound of one test in dom0, seconds
#   NXL_LAB_MEM=2048 NXL_LAB_SMP=2 NXL_LAB_DOM0_MEM=1024M
#   NXL_LAB_CACHE=/var/cache/novaxl-lab   (see lab/build-image.sh)
#   NXL_LAB_LOCK=/run/lock/novaxl-lab.lock  one run at a time, see below
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: $0 --check|--demo|--shell STAGING" >&2; exit 2; }
[ $# -eq 2 ] || usage
case $1 in
    --check) mode=check ;;
    --demo) mode=demo ;;
    --shell) mode=shell ;;
    *) usage ;;
esac
staging=$2
[ -d "$staging/lab" ] || { echo "run.sh: $staging is not staged (lab/stage.sh)" >&2; exit 2; }

# One lab run per machine: two QEMUs (~2 GiB and every CPU each) slow each
# other's guests past the tests' bounds, and an image build in one would
# delete the image the other boots. A second run waits its turn.
lock=${NXL_LAB_LOCK:-/run/lock/novaxl-lab.lock}
mkdir -p "$(dirname "$lock")"
exec 9>"$lock"
if ! flock -n 9; then
    echo "run.sh: another lab run holds $lock; waiting for it"
    flock 9
fi

out=${NXL_LAB_OUT:-$PWD/lab-out}
bound=${NXL_LAB_TIMEOUT:-3600}
test_bound=${NXL_LAB_TEST_TIMEOUT:-480}
mem=${NXL_LAB_MEM:-2048}
smp=${NXL_LAB_SMP:-2}
dom0_mem=${NXL_LAB_DOM0_MEM:-1024M}
mkdir -p "$out"
out=$(cd "$out" && pwd)
serial="$out/lab-serial.log"
t_start=$(date +%s)

img=$("$here/build-image.sh" | tail -1)
[ -f "$img/stamp" ] || { echo "run.sh: no lab image at $img" >&2; exit 1; }

# The payload disk: an ext4 image of STAGING, seconds to make.
payload="$out/payload.ext4"
kib=$(du -sk "$staging" | cut -f1)
rm -f "$payload"
mkfs.ext4 -q -F -L novaxl -d "$staging" "$payload" "$((kib * 2 + 65536))K"

# Why these flags:
#  -cpu max,-smap,-rdtscp  SMAP makes the PV dom0 crash (#PF in
#      create_bounce_frame); RDTSCP makes PVH guests hang under TCG.
#  -avx,-avx2              QEMU 7.2 is the first TCG with AVX; with it, dom0
#      processes died at random (segfaults of oxenstored and xl, glibc
#      mutex assertions), about once a run. glibc then uses its SSE code.
#  tb-size=256             bounds QEMU's translation cache (peak ~2.4 GiB).
#  snapshot=on             runs never change the cached image.
#  -no-reboot              a Xen crash or reboot ends the run.
#  -echr 0x1d              QEMU's escape is Ctrl-], leaving Ctrl-A to Xen.
xen_args="console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem dom0_max_vcpus=$smp"
linux_args="root=/dev/vda rw console=hvc0 init=/sbin/nxl-init nxl.mode=$mode nxl.timeout=$test_bound"
# QEMU splits -initrd on commas: double any in the arguments.
# shellcheck disable=SC2054  # the commas are QEMU's, inside one word
qemu=(qemu-system-x86_64
    -machine q35 -accel tcg,thread=multi,tb-size=256
    -cpu max,-smap,-rdtscp,-avx,-avx2 -m "$mem" -smp "$smp"
    -nic none -no-reboot -display none -vga none -echr 0x1d
    -chardev "stdio,id=con,mux=on,signal=off,logfile=$serial"
    -serial chardev:con -mon chardev=con,mode=readline
    -kernel "$img/xen.elf" -append "$xen_args"
    -initrd "$img/vmlinuz ${linux_args//,/,,},$img/initrd.img"
    -drive "file=$img/rootfs.ext4,if=virtio,format=raw,snapshot=on"
    -drive "file=$payload,if=virtio,format=raw,snapshot=on")

rm -f "$serial"
echo "run.sh: image $img"
echo "run.sh: mode $mode, bound ${bound}s, serial log $serial"

if [ "$mode" = shell ]; then
    exec timeout --foreground "$bound" "${qemu[@]}"
fi

# check and demo: QEMU in the background, its console on our stdout (CI
# logs show the run live); we watch it for the end marker and memory.
qpid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    if [ -n "$qpid" ]; then
        kill "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
timeout -k 10 "$bound" "${qemu[@]}" </dev/null &
qpid=$!
done_marker=LAB-DONE
[ "$mode" = demo ] && done_marker=LAB-DEMO-DONE
peak_kb=0 done_at="" qrc=0
while kill -0 "$qpid" 2>/dev/null; do
    sleep 2
    child=$(pgrep -P "$qpid" qemu-system 2>/dev/null | head -1 || true)
    if [ -n "$child" ]; then
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$child/status" 2>/dev/null || echo 0)
        [ "${hwm:-0}" -gt "$peak_kb" ] && peak_kb=$hwm
    fi
    if [ -z "$done_at" ] && grep -aq "^$done_marker" "$serial" 2>/dev/null; then
        done_at=$(date +%s)
    fi
    # dom0 powers off after the marker; if that does not end QEMU, we do.
    if [ -n "$done_at" ] && [ $(($(date +%s) - done_at)) -gt 60 ]; then
        echo "run.sh: QEMU still up 60s after $done_marker: stopping it"
        kill "$qpid" 2>/dev/null || true
        break
    fi
done
wait "$qpid" || qrc=$?
qpid=""
elapsed=$(($(date +%s) - t_start))
echo
echo "run.sh: QEMU exited (status $qrc) after ${elapsed}s; peak RSS $((peak_kb / 1024)) MiB"

# The serial log has CRLF line ends; results are whole lines from dom0.
clean=$(tr -d '\r' <"$serial")
if [ "$mode" = demo ]; then
    rc=$(sed -n 's/^LAB-DEMO-DONE rc=\([0-9]*\).*/\1/p' <<<"$clean" | tail -1)
    if [ -z "$rc" ]; then
        echo "run.sh: demo did not finish (no LAB-DEMO-DONE; QEMU status $qrc)"
        exit 1
    fi
    echo "run.sh: demo exited $rc"
    exit "$rc"
fi

echo "=== Xen lab results"
grep -E '^(PASS|FAIL|SKIP) ' <<<"$clean" || true
passed=$(grep -c '^PASS ' <<<"$clean" || true)
failed=$(grep -c '^FAIL ' <<<"$clean" || true)
skipped=$(grep -c '^SKIP ' <<<"$clean" || true)
status=0
if ! grep -q '^LAB-DONE ' <<<"$clean"; then
    # A run cut short: the test that was running counts as failed.
    last=$(sed -n 's/^LAB-START //p' <<<"$clean" | tail -1)
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        echo "FAIL lab-timeout: no LAB-DONE within ${bound}s${last:+ (running: $last)}"
    else
        echo "FAIL lab-incomplete: no LAB-DONE (QEMU status $qrc)${last:+ (running: $last)}"
    fi
    failed=$((failed + 1))
fi
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || { echo "run.sh: no lab test passed"; status=1; }
echo "run.sh: total ${elapsed}s (image + payload + boot + tests)"
retried=$(grep -c '^LAB-RETRY ' <<<"$clean" || true)
grep -E '^LAB-RETRY ' <<<"$clean" || true
echo "$passed passed, $failed failed, $skipped skipped, $retried retried"
exit "$status"
