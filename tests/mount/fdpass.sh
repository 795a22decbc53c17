#!/bin/bash
# fdpass.sh — a file descriptor carries the view of the user who opened it
# (DESIGN.md "Profiles and what a caller sees"; TESTPLAN 11).
#
# pfs_tb opens each record and passes the fd over an AF_UNIX socket (SCM_RIGHTS)
# to pfs_pa, pfs_pm and pfs_no (tests/mount/py/fdpass.py): through the fd they read
# exactly pfs_tb's view; opening the path themselves gives their own view (EACCES
# for pfs_no); re-opening the passed fd through /proc/self/fd/N is a new open of
# pfs_tb's node and is refused with EACCES. Also an fd kept across setuid.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$TOP/tests/mount/py"

fixture_users
fixture_dataset
fixture_config
mount_start || exit 1

python3 "$PY/fdpass.py" city "$MNT" pfs_tb pfs_pa pfs_pm pfs_no >"$T/.probe" 2>&1
rc=$?
cat "$T/.probe"
if [ "$rc" != 0 ]; then
	FAILED=1
	grep -q '^FAIL ' "$T/.probe" || echo "FAIL fdpass_probe: fdpass.py exit $rc"
elif ! grep -q '^PASS ' "$T/.probe"; then
	fail fdpass_probe "fdpass.py ran no check"
fi

# the receiver's own view through the shell, after all the passing: unchanged
same pa_view_after "$(as pfs_pa cat "$MNT/INB0000001.txt")" "voornaam: Amina
contacttaal: Arabisch
niveau Nederlands: A2"
mount_stop && pass clean_unmount
exit $FAILED
