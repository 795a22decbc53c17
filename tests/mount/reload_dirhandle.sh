#!/bin/bash
# reload_dirhandle.sh — a directory listing opened before a reload is not continued
# with the new generation (profiles may be renumbered): it fails with ESTALE, and
# a new listing shows the new dataset.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
fixture_users
fixture_dataset
fixture_config
mount_start || exit 1

# serial 2 without INB0000003
grep -v '^INB0000003;' "$T/export.csv" >"$T/export2.csv"
"$PFS" seal --protocol "$T/protocol.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
	--serial 2 "$T/export2.csv" "$T/dataset2.pfs" >/dev/null
as pfs_tb /usr/bin/python3 - "$MNT" >"$T/dir.out" 2>&1 <<'PY' &
import errno, os, sys, time
mnt = sys.argv[1]
it = os.scandir(mnt)          # opendir only; the first getdents comes with next()
fd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
print("opened")
sys.stdout.flush()
# the test (as root) replaces the dataset; wait for the reload to show
for _ in range(100):
    if "INB0000003.txt" not in os.listdir(mnt):
        break
    time.sleep(0.05)
try:
    names = [e.name for e in it]
    print("old handle listed", len(names))
except OSError as e:
    print("old handle", errno.errorcode[e.errno])
print("new listing", " ".join(sorted(os.listdir(mnt))))
PY
probe=$!
sleep 0.5
mv "$T/dataset2.pfs" "$T/dataset.pfs"
wait $probe
same reload_dirhandle "$(cat "$T/dir.out")" "opened
old handle ESTALE
new listing INB0000001.txt INB0000002.txt LEESMIJ-README"
mount_stop && pass clean_unmount
exit $FAILED
