#!/bin/bash
# isolation.sh — no byte of one profile's view ever reaches a caller of another
# profile (DESIGN.md "Profiles and what a caller sees"; TESTPLAN 10, 12, A.6).
#
# Two users' children interleave open, pread, mmap(MAP_PRIVATE), sendfile and
# splice on the same file (tests/mount/py/xuid.py); every byte read must be the
# reader's own view, computed independently by tests/mount/py/views.py. Run on the
# fixture (views of different sizes) and on a dataset and config of this test's
# own whose three views of each record have one size. Also: concurrent
# shutil.copyfile loops, warm-cache cross-user stat+open, inode numbers per view,
# and mmap(MAP_SHARED).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$TOP/tests/mount/py"

# probe NAME ARGS... — run xuid.py; its PASS/FAIL lines are the checks. A probe
# that dies without a FAIL line is a failure too.
probe() {
	local name=$1 rc
	shift
	python3 "$PY/xuid.py" "$@" >"$T/.probe" 2>&1
	rc=$?
	cat "$T/.probe"
	if [ "$rc" != 0 ]; then
		FAILED=1
		grep -q '^FAIL ' "$T/.probe" || echo "FAIL $name: xuid.py exit $rc"
	elif ! grep -q '^PASS ' "$T/.probe"; then
		fail "$name" "xuid.py ran no check"
	fi
}

# all_checks SCENARIO — the whole probe set on the mounted SCENARIO.
all_checks() {
	local sc=$1 b
	for b in pfs_pa pfs_pm; do
		seq_check "$sc" pfs_tb $b read 'A:open B:open A:read B:read'
		seq_check "$sc" pfs_tb $b map 'A:open B:open A:map B:map A:touch B:touch'
		seq_check "$sc" pfs_tb $b map_interleaved \
			'A:open A:map A:touch B:open B:map B:touch A:touch'
		seq_check "$sc" pfs_tb $b sendfile 'A:open B:open A:sendfile B:sendfile'
		seq_check "$sc" pfs_tb $b splice 'A:open B:open A:splice B:splice'
		# the same with the narrower user going first
		seq_check "$sc" $b pfs_tb read_sendfile 'A:open B:open A:read B:read A:sendfile B:sendfile'
		seq_check "$sc" $b pfs_tb map_interleaved \
			'A:open A:map A:touch B:open B:map B:touch A:touch'
		# MAP_SHARED, should the kernel grant it (see map_shared_enodev)
		seq_check "$sc" pfs_tb $b mapshared 'A:open B:open A:mapshared B:mapshared A:touch B:touch'
		probe "${sc}_copyfile" copy "$sc" "$MNT" pfs_tb $b "$T" 200
		probe "${sc}_inodes" inodes "$sc" "$MNT" pfs_tb $b
	done
}

# seq_check SCENARIO USER_A USER_B NAME STEPS — one check per record.
seq_check() {
	probe "$1_$4" seq "$1" "$MNT" "$2" "$3" "$4" "$5"
}

fixture_users
fixture_dataset
fixture_config

# ---- the fixture: views of different sizes
mount_start || exit 1
all_checks city
for b in pfs_no pfs_pa pfs_pm; do
	probe city_warm_$b warm city "$MNT" pfs_tb $b 100
done
# TESTPLAN 12, decided otherwise (README): mmap(MAP_SHARED) of a person file maps
# that view's own inode and shows exactly the caller's view; the information file
# (direct_io) refuses it with ENODEV
probe city_map_shared mapshared city "$MNT" pfs_tb
mount_stop && pass clean_unmount_city

# ---- views of equal size: own dataset (same protocol and keys), own config
python3 "$PY/views.py" csv eq "$(days_from_today -10)" >"$T/eq.csv"
"$PFS" seal --protocol "$T/protocol.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
	--serial 1 "$T/eq.csv" "$T/eq.pfs" >/dev/null || fail eq_seal "seal refused eq.csv"
mkdir -p "$T/state-eq"
# the fixture's [dataset] and [audit] sections, pointed at this test's own files
cp "$T/city.ini" "$T/city-fixture.ini"
{
	sed -n '/^\[labels\]/q;p' "$T/city-fixture.ini" | sed -e 's/^path = .*/path = eq.pfs/' \
		-e 's/^state_dir = .*/state_dir = state-eq/' -e 's/^log = .*/log = audit-eq.log/' \
		-e 's/^verify_key = .*/verify_key = audit-eq.key/'
	cat <<EOC
[labels]
first_name = naam
last_name = anaam
address = adres
phone = telnr
email = email
contact_language = taal
dutch_level = niveau
mo_status = status

[profile:adres]
fields = first_name, address
users = pfs_tb

[profile:email]
fields = first_name, email
users = $(id -u pfs_pm)

[profile:telefoon]
fields = first_name, phone
groups = pfs_partners
EOC
} >"$T/city.ini"
mount_start || exit 1
# the premise: each record's three views really have one size, and it is the size
# every user is shown
for r in INB0000001 INB0000002 INB0000003; do
	sizes=""
	for u in pfs_tb pfs_pm pfs_pa; do
		sizes="$sizes $(python3 "$PY/views.py" view eq $u $r | wc -c)/$(as $u stat -c %s "$MNT/$r.txt")"
	done
	set -- $sizes
	same "eq_equal_size_$r" "$sizes" " $1 $1 $1"
done
all_checks eq
probe eq_warm warm eq "$MNT" pfs_tb pfs_pa 100
mount_stop && pass clean_unmount_eq
exit $FAILED
