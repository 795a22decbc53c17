#!/bin/bash
# hardening.sh — the running daemon refuses core dumps and keeps its secrets in
# locked memory (TESTPLAN 38, 39, 41).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
fixture_users
fixture_dataset
fixture_config
mount_start || exit 1
pid=$(pgrep -f "protocolfs mount $T/city.ini" | head -1)
same core_limit_zero "$(awk '/^Max core file size/ { print $5, $6 }' /proc/$pid/limits)" "0 0"
# a non-root user of the same machine cannot read the daemon's memory or environment
out=$(as pfs_tb cat /proc/$pid/environ 2>&1 >/dev/null)
same environ_unreadable "$out" "cat: /proc/$pid/environ: Permission denied"
# the command line holds no key material (it is world-readable)
same cmdline_no_secret "$(tr '\0' ' ' </proc/$pid/cmdline | grep -c -e 'key' -e 'pass')" "0"
as pfs_tb cat "$MNT/INB0000001.txt" >/dev/null
lck=$(awk '/^VmLck:/ { print $2 }' /proc/$pid/status)
if nm "$PFS" 2>/dev/null | grep -q __asan_init || grep -q libasan /proc/$pid/maps; then
	# ASan turns mlock into a no-op (TESTPLAN 6): the locked size must be 0 there
	same vmlck_asan_build_noop "$lck" "0"
else
	# file key, scratch record and rendering buffers: at least a few pages locked
	[ "${lck:-0}" -ge 8 ] && pass vmlck_keys_locked || fail vmlck_keys_locked "VmLck: ${lck} kB"
fi
mount_stop && pass clean_unmount
exit $FAILED
