#!/bin/bash
# time_clock.sh — a clock set back resurrects nothing (Art. 2, 5): the daemon uses
# max(wall clock, the highest time seen), persisted in state_dir/time.mark. After
# a record expires at faked T, the clock is set back one day: the record stays
# hidden, one "clock" audit line says the wall clock is behind, `check` (on the
# real clock, years earlier) counts it as expired; a restart with the clock still
# set back keeps it hidden; moving the clock on past the next deadline still acts.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
ft_init UTC
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
make_protocol "$T/p.ini" 2024-01-01 2030-12-31 TEST-CLOCK
write_csv "$T/c.csv" R-LEAP:2024-02-29 R-MARCH:2024-03-01 R-LATE:2026-06-15
seal_csv "$T/p.ini" "$T/c.csv" "$T/c.pfs" 1 || {
	fail setup "seal failed"
	exit 1
}
cfg=$(make_config clk c.pfs)
LOG=$T/clk.log
nclock() { audit_events "$LOG" clock | wc -l; }
# The "clock" line: the lag in seconds (about one day) and the fixed text.
clock_line_ok() {
	audit_events "$LOG" clock | sed -n "${1}p" |
		grep -Eq '^\|\|\|the wall clock is 86(39[89]|40[0-9]) s behind the latest time seen; keeping the later time \(nothing that expired comes back\)$'
}

ft_set_bxl "2029-02-27 12:00:00"
ft_mount_start "$cfg" || exit 1
same before_all_visible "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-LEAP.txt R-MARCH.txt "
ft_set_bxl "2029-02-28 00:00:01" # T: R-LEAP's deadline has passed
wait_for 3 count_ge 1 n_events "$LOG" expire
same expired_at_t "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-MARCH.txt "
same no_clock_line_yet "$(nclock)" 0
sleep 1.2 # the keeper saves the mark

ft_set_bxl "2029-02-27 00:00:01" # T - 1 day
sleep 0.3
same set_back_still_hidden "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-MARCH.txt "
same set_back_lookup_enoent "$(as pfs_tb cat "$MNT/R-LEAP.txt" 2>&1)" "cat: $MNT/R-LEAP.txt: No such file or directory"
same set_back_readme_count "$(as pfs_tb grep 'records you see' "$MNT/LEESMIJ-README")" "Dossiers die u ziet / records you see: 2"
wait_for 3 count_ge 1 nclock
clock_line_ok 1 && pass clock_line || fail clock_line "$(audit_events "$LOG" clock)"
sleep 2.2
same clock_line_once_per_jump "$(nclock)" 1
same set_back_no_second_expire "$(audit_events "$LOG" expire | wc -l)" 1
# The mark is on disk (0600, 16 bytes) and the CLI, on the real clock, uses it.
same mark_file "$(stat -c '%a %s' "$T/clk.state/time.mark")" "600 16"
same check_uses_mark "$("$PFS" check "$cfg" | grep '^visible:')" "visible:    2 records now (1 expired, 0 purged)"
same check_next_uses_mark "$("$PFS" check "$cfg" | grep '^next:')" "next:       2029-03-01 (records disappear at the start of this day)"
ft_mount_stop && pass clean_unmount || fail clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- restart with the clock still set back: the persisted mark keeps it hidden
ft_mount_start "$cfg" || exit 1
same restart_still_hidden "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-MARCH.txt "
same restart_lookup_enoent "$(as pfs_tb cat "$MNT/R-LEAP.txt" 2>&1)" "cat: $MNT/R-LEAP.txt: No such file or directory"
wait_for 3 count_ge 2 nclock
clock_line_ok 2 && pass restart_clock_line || fail restart_clock_line "$(audit_events "$LOG" clock)"
# the clock moves on past the next deadline: the keeper still acts at it
ft_set_bxl "2029-03-01 00:00:01"
same next_deadline_after_set_back "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt "
wait_for 3 count_ge 2 n_events "$LOG" expire
same next_deadline_expire_line "$(audit_events "$LOG" expire | sed -n 2p)" "||R-MARCH|1 record no longer shown from 2029-02-28T23:00:00Z (retention)"
ft_mount_stop && pass restart_clean_unmount || fail restart_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- a mark past the protocol end refuses a mount whose clock is inside the window
ft_set_bxl "2030-12-31 23:59:58"
ft_mount_start "$cfg" || exit 1
ft_set_bxl "2031-01-01 00:00:05"
wait_for 3 count_ge 3 n_events "$LOG" expire
sleep 1.2
same end_all_gone "$(listing pfs_tb)" "LEESMIJ-README "
ft_mount_stop && pass end_clean_unmount || fail end_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
ft_set_bxl "2029-02-27 00:00:01"
expect mark_past_end_refuses_mount 2 "protocolfs: mount: protocol TEST-CLOCK ended on 2030-12-31 (Europe/Brussels): nothing may be served" \
	ft_env "$PFS" mount "$cfg" "$MNT" -f -o allow_other
"$PFS" audit verify --key "$T/clk.audit.key" "$LOG" >"$T/verify.out" 2>&1 && pass audit_verifies || fail audit_verifies "$(cat "$T/verify.out")"
exit $FAILED
