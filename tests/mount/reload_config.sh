#!/bin/bash
# reload_config.sh — a config change with the same dataset (Art. 4, 6): on SIGHUP
# the new config is verified whole and replaces the old one at once. A user
# removed from a profile is refused on the next open, a descriptor they held
# gets ESTALE, a profile whose fields were narrowed shows fewer lines at once;
# the reload and a config line with the new and the old digest are logged. A
# SIGHUP with nothing changed is logged as such (not an error); a broken config is refused and
# the old one keeps serving.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
D=$(days_from_today -10)
make_protocol "$T/p.ini" "$(days_from_today -30)" "$(days_from_today 365)"
write_csv "$T/s1.csv" "INB0000001:$D:Amina" "INB0000002:$D:Oleksandra"
seal_csv "$T/p.ini" "$T/s1.csv" "$T/dataset.pfs" 1 || {
	fail setup "seal failed"
	exit 1
}
cfg=$(make_config rc)
LOG=$T/rc.log
reloads() { audit_events "$LOG" reload; }
nreload() { reloads | wc -l; }
NR=0
next_reload() {
	line=
	wait_for 3 count_ge $((NR + 1)) nreload || return 1
	NR=$((NR + 1))
	line=$(reloads | sed -n "${NR}p")
}
digest_of() { sed -n 's/.*; digest \([0-9a-f]\{64\}\).*/\1/p' <<<"$1"; }

pfs_mount_start "$cfg" || exit 1
c1=$(audit_events "$LOG" config | tail -n1)
d1=$(digest_of "$c1")
same mount_config_digest_form "${#d1}" 64
same before_partner "$(as pfs_pa cat "$MNT/INB0000001.txt")" "voornaam: Amina
contacttaal: Arabisch
niveau Nederlands: A1"
same before_pm "$(as pfs_pm head -n1 "$MNT/INB0000001.txt")" "voornaam: Amina"

# pfs_pm holds a descriptor, opened before the change, and reads after it
mkdir -m 777 "$T/sync"
as pfs_pm $PY3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
open(sys.argv[2] + "/opened", "w").close()
while not os.path.exists(sys.argv[2] + "/go"): time.sleep(0.05)
try:
    b = os.pread(fd, 4096, 0); print("read", len(b))
except OSError as e:
    import errno; print("pread", errno.errorcode[e.errno])
' "$MNT/INB0000002.txt" "$T/sync" >"$T/hold.out" 2>&1 &
HOLD=$!
wait_for 3 test -e "$T/sync/opened" || fail hold_opened "the holder did not open"

# ---- the change: pfs_pm leaves projectmedewerker, partner sees first names only
sed -i -e "s/^users = $(id -u pfs_pm)\$/users = pfs_no/" \
	-e 's/^fields = first_name, contact_language, dutch_level$/fields = first_name/' "$cfg"
kill -HUP "$DAEMON_PID"
next_reload
same config_reload_accepted "$line" "allowed|||config changed, serial 1 unchanged: 2 records, 0 no longer shown"
c2=$(audit_events "$LOG" config | tail -n1)
d2=$(digest_of "$c2")
same config_line_names_both "$c2" "|||config $cfg; profiles: trajectbegeleider projectmedewerker partner beheerder; digest $d2 (was $d1)"
[ "$d1" != "$d2" ] && pass config_digest_changed || fail config_digest_changed "$d1 = $d2"
expect removed_user_refused 1 "cat: $MNT/INB0000001.txt: Permission denied" as pfs_pm cat "$MNT/INB0000001.txt"
same narrowed_fields "$(as pfs_pa cat "$MNT/INB0000001.txt")" "voornaam: Amina"
same narrowed_size "$(as pfs_pa stat -c %s "$MNT/INB0000001.txt")" "16"
same new_member_reads "$(as pfs_no head -n1 "$MNT/INB0000001.txt")" "voornaam: Amina"
touch "$T/sync/go"
wait "$HOLD"
same held_fd_estale "$(cat "$T/hold.out")" "pread ESTALE"

# ---- SIGHUP again, nothing changed: refused as such, still the new config
kill -HUP "$DAEMON_PID"
next_reload
same unchanged_refused "$line" "|||SIGHUP: nothing changed: serial 1 and the config are the ones mounted"
same unchanged_no_config_line "$(n_events "$LOG" config)" "2"

# ---- a broken config: refused, the mount keeps the last good one
cp "$cfg" "$T/good.ini"
printf '[profile:partner]\nbogus = 1\n' >>"$cfg"
kill -HUP "$DAEMON_PID"
next_reload
same broken_config_refused "$line" "denied|dataset refused||SIGHUP: reload refused: $cfg:$(($(wc -l <"$cfg") - 1)): [profile:partner]: given twice"
same broken_keeps_serving "$(as pfs_pa cat "$MNT/INB0000001.txt")" "voornaam: Amina"
expect broken_keeps_refusing 1 "cat: $MNT/INB0000001.txt: Permission denied" as pfs_pm cat "$MNT/INB0000001.txt"

# ---- keys only a restart can apply: refused by name, the old config serves on
for change in 's/^sync = .*//;s/^verify_key = .*/&\nsync = batch/|[audit] sync' \
	's/^log = .*/log = other.log/|[audit] log' 's/^state_dir = .*/state_dir = ./|[dataset] state_dir'; do
	cp "$T/good.ini" "$cfg"
	sed -i "${change%%|*}" "$cfg"
	kill -HUP "$DAEMON_PID"
	next_reload
	same "restart_key_refused ${change#*|}" "$line" "denied|dataset refused||SIGHUP: reload refused: $cfg: ${change#*|} changed: the running daemon cannot apply it; restart the mount"
done
same restart_key_keeps_serving "$(as pfs_pa cat "$MNT/INB0000001.txt")" "voornaam: Amina"
cp "$T/good.ini" "$cfg"

ft_mount_stop && pass clean_unmount || fail clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
"$PFS" audit verify --key "$T/rc.audit.key" "$LOG" >"$T/v.out" 2>&1 && pass audit_verifies || fail audit_verifies "$(cat "$T/v.out")"
exit $FAILED
