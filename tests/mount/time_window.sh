#!/bin/bash
# time_window.sh — the protocol window (Art. 5, 12) on a mounted daemon whose
# clock is moved with libfaketime: the seed protocol (2021-07-01..2022-06-30,
# Europe/Brussels) with 50 sample records shared inside it. Until the end of 30
# June 2022 Brussels every record is visible; from 1 July 00:00 Brussels (22:00
# UTC) nothing is: the listing empties, lookups fail, a descriptor held open gives
# ESTALE, an existing mmap and sendfile no longer serve the cached bytes, and one
# "expire" line is logged. A mount outside the window is refused with the date.
# The same instants whatever the daemon's own TZ (UTC, New York, Tokyo).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
ft_init UTC
fixture_users
"$PFS" keygen issuer "$T/agii" >/dev/null && "$PFS" keygen recipient "$T/city" >/dev/null &&
	"$SAMPLE" --count 50 -o "$T/export.csv" && seal_csv "$PROTOCOL" "$T/export.csv" "$T/dataset.pfs" 1 || {
	fail setup "keys, sample or seal failed"
	exit 1
}
ID=$(sed -n 2p "$T/export.csv" | cut -d';' -f1)
PID_ID="$ID.txt"

txt_count() { as pfs_tb ls "$MNT" 2>&1 | grep -c '\.txt$'; }
only_readme() { [ "$(listing pfs_tb)" = "LEESMIJ-README " ]; }
expire_logged() { [ -n "$(audit_events "$1" expire)" ]; }

# ---- daemon in UTC: the full set of checks
cfg=$(make_config utc)
ft_set_bxl "2022-01-15 12:00:00"
ft_mount_start "$cfg" || exit 1
same utc_midwinter_all_visible "$(txt_count)" 50
same utc_readme_count "$(as pfs_tb grep 'records you see' "$MNT/LEESMIJ-README")" "Dossiers die u ziet / records you see: 50"
same utc_readme_next "$(as pfs_tb grep 'next date' "$MNT/LEESMIJ-README")" "Volgende datum waarop dossiers verdwijnen / next date records disappear: 2022-07-01"
same utc_deadline_xattr "$(as pfs_tb getfattr --absolute-names --only-values -n user.protocolfs.deadline "$MNT/$PID_ID" 2>&1)" "2022-07-01"
same utc_reason_xattr "$(as pfs_tb getfattr --absolute-names --only-values -n user.protocolfs.reason "$MNT/$PID_ID" 2>&1)" "protocol end"
want_content=$(as pfs_tb cat "$MNT/$PID_ID")

# A caller holds the record open and mapped, before the deadline.
mkdir -m 777 "$T/sync"
as pfs_tb $PY3 "$PY4/hold.py" "$MNT/$PID_ID" "$T/sync/ready" "$T/sync/go" >"$T/hold.out" 2>&1 &
HOLD=$!
wait_for 10 test -e "$T/sync/ready" || fail utc_hold_ready "$(cat "$T/hold.out")"

ft_set_bxl "2022-06-30 23:59:58" # 21:59:58 UTC, the last seconds of the window
same utc_last_second_all_visible "$(txt_count)" 50
same utc_last_second_content "$(as pfs_tb cat "$MNT/$PID_ID" 2>&1)" "$want_content"
same utc_no_expire_yet "$(audit_events "$T/utc.log" expire)" ""

ft_set_bxl "2022-07-01 00:00:01" # 22:00:01 UTC
t0=$(date +%s%N)
wait_for 3 expire_logged "$T/utc.log"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -le 2000 ] && expire_logged "$T/utc.log"; then pass utc_expire_within_2s; else fail utc_expire_within_2s "no expire line after ${ms} ms"; fi
same utc_expire_line "$(audit_events "$T/utc.log" expire)" "|||50 records no longer shown from 2022-06-30T22:00:00Z (protocol end)"
same utc_after_end_empty "$(listing pfs_tb)" "LEESMIJ-README "
same utc_after_end_lookup "$(as pfs_tb stat -c %s "$MNT/$PID_ID" 2>&1)" "stat: cannot statx '$MNT/$PID_ID': No such file or directory"
same utc_after_end_cat "$(as pfs_tb cat "$MNT/$PID_ID" 2>&1)" "cat: $MNT/$PID_ID: No such file or directory"
same utc_after_end_readme "$(as pfs_tb grep 'records you see' "$MNT/LEESMIJ-README")" "Dossiers die u ziet / records you see: 0"
touch "$T/sync/go"
wait "$HOLD"
same utc_held_fd_pread "$(sed -n 1,2p "$T/hold.out" | tr '\n' ' ')" "pread ESTALE pread ESTALE "
case "$(sed -n 3p "$T/hold.out")" in
"mmap SIGBUS" | "mmap zeros" | "mmap EIO" | "mmap ESTALE") pass utc_old_mmap_not_served ;;
*) fail utc_old_mmap_not_served "$(sed -n 3p "$T/hold.out") (want SIGBUS, zeros or an error, never the old bytes)" ;;
esac
case "$(sed -n 4p "$T/hold.out")" in
"sendfile 0" | "sendfile ESTALE" | "sendfile ENOENT" | "sendfile EIO") pass utc_sendfile_not_served ;;
*) fail utc_sendfile_not_served "$(sed -n 4p "$T/hold.out")" ;;
esac
# A clock reading 1 s after the deadline, seconds later: still nothing, one line only.
sleep 1.2
same utc_one_expire_line "$(audit_events "$T/utc.log" expire | wc -l)" 1
ft_mount_stop && pass utc_clean_unmount || fail utc_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- a mount outside the window is refused with the date (fresh state: no mark)
cfg=$(make_config late)
ft_set_bxl "2022-07-01 00:00:01"
expect refuse_after_end 2 "protocolfs: mount: protocol AGII-MECHELEN-AMIF507 ended on 2022-06-30 (Europe/Brussels): nothing may be served" \
	ft_env "$PFS" mount "$cfg" "$MNT" -f -o allow_other
same refuse_after_end_not_mounted "$(is_mounted && echo mounted)" ""
cfg=$(make_config early)
ft_set_bxl "2021-06-30 23:59:58"
expect refuse_before_start 2 "protocolfs: mount: protocol AGII-MECHELEN-AMIF507 starts on 2021-07-01 (Europe/Brussels): nothing may be served yet" \
	ft_env "$PFS" mount "$cfg" "$MNT" -f -o allow_other
# the same refusals whatever the daemon's TZ (22:00:01 UTC is already 1 July in Brussels)
for tz in America/New_York Asia/Tokyo; do
	DTZ=$tz
	cfg=$(make_config "late-${tz#*/}")
	ft_set "2022-06-30 22:00:01"
	expect "refuse_after_end_${tz#*/}" 2 "protocolfs: mount: protocol AGII-MECHELEN-AMIF507 ended on 2022-06-30 (Europe/Brussels): nothing may be served" \
		ft_env "$PFS" mount "$cfg" "$MNT" -f -o allow_other
done

# ---- the same instants with the daemon in New York and in Tokyo
for tz in America/New_York Asia/Tokyo; do
	DTZ=$tz
	n=${tz#*/}
	cfg=$(make_config "$n")
	ft_set "2021-06-30 22:00:01" # 1 July 2021 00:00:01 Brussels: the first second
	ft_mount_start "$cfg" || continue
	same "${n}_first_second_visible" "$(txt_count)" 50
	ft_set "2022-06-30 21:59:58"
	same "${n}_last_second_visible" "$(txt_count)" 50
	ft_set "2022-06-30 22:00:01"
	wait_for 3 expire_logged "$T/$n.log"
	same "${n}_expire_line" "$(audit_events "$T/$n.log" expire)" "|||50 records no longer shown from 2022-06-30T22:00:00Z (protocol end)"
	same "${n}_after_end_empty" "$(listing pfs_tb)" "LEESMIJ-README "
	same "${n}_after_end_lookup" "$(as pfs_tb cat "$MNT/$PID_ID" 2>&1)" "cat: $MNT/$PID_ID: No such file or directory"
	ft_mount_stop && pass "${n}_clean_unmount" || fail "${n}_clean_unmount" "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
done
exit $FAILED
