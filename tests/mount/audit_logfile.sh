#!/bin/bash
# audit_logfile.sh — the log file taken away under a running daemon (test plan C,
# test 17; Vault #31718):
#  a0. made read-only (chmod 0400): opens are refused until it is writable again.
#  a. deleted: every open is refused (no line goes to the unlinked file, no file
#     is made silently); SIGHUP creates the log again with a "reopen" line and
#     opens are served; the copy taken before the delete and the new file verify
#     as one chain.
#  b. rotated the logrotate way (renamed, then an empty file created): the next
#     line goes to the new file, SIGHUP adds "reopen" there.
#  c. rotated by a rename alone: the daemon follows on the next line (a new file
#     at the path), SIGHUP adds "reopen".
#  e. the same SIGHUP with sync = batch.
#  d. the rotated series verifies in order; the newest file alone, or the files in
#     the wrong order, fail naming the first line that does not follow.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py3/audit.bash"
fixture_users
fixture_dataset
fixture_config
KEY="$T/audit.key"
STATE="$T/state/audit.state"
LOG="$T/audit.log"
# events FILE — "seq event" of each line of FILE
events() { alog norm "$1" | sed -E 's/^\{"seq":([0-9]+),"event":"([a-z-]+)".*/\1 \2/'; }
# wait_reopen FILE SEQ — wait (up to 5 s) until FILE holds line SEQ
wait_line() {
	local i
	for i in $(seq 1 100); do
		[ -f "$1" ] && [ "$(alog last "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_reopen — after a SIGHUP: wait (up to 5 s) for the "reopen" line in $LOG, then
# a little for anything else the signal does (a reload) to be done.
wait_reopen() {
	local i
	for i in $(seq 1 100); do
		[ -f "$LOG" ] && events "$LOG" | grep -q ' reopen$' && sleep 0.3 && return 0
		sleep 0.05
	done
	return 1
}
first_line() { events "$1" | head -n1; }

mount_start || exit 1
same open_before "$(open1 pfs_tb "$F1")" "ok 193"

# ---- a0. made read-only: refused until it is writable again
chmod 0400 "$LOG"
same readonly_open_refused "$(open1 pfs_tb "$F1")" "errno EIO"
chmod 0600 "$LOG"
same writable_open_served "$(open1 pfs_tb "$F1")" "ok 193"
same readonly_nothing_written "$(events "$LOG" | tail -n 2 | tr '\n' ' ')" "3 open 4 open "

# ---- a. deleted
cp -p "$LOG" "$T/deleted.copy"
rm "$LOG"
same deleted_open_refused "$(open1 pfs_tb "$F1" "$F2"; open1 pfs_pa "$F1")" "errno EIO
errno EIO
errno EIO"
same deleted_ls_refused "$(as pfs_tb ls "$MNT" 2>&1)" "ls: cannot open directory '$MNT': Input/output error"
[ -e "$LOG" ] && fail deleted_not_recreated_silently "$(cat "$LOG")" || pass deleted_not_recreated_silently
same deleted_copy_complete "$(events "$T/deleted.copy" | tr '\n' ' ')" "1 config 2 mount 3 open 4 open "
kill -HUP "$DAEMON_PID"
wait_reopen && pass sighup_recreates || fail sighup_recreates "no reopen line in a new $LOG within 5 s"
same sighup_reopen_line "$(alog norm "$LOG" | head -n1)" '{"seq":5,"event":"reopen","result":null,"reason":null,"uid":null,"user":null,"pid":null,"comm":null,"profile":null,"path":null,"record":null,"fields":[],"detail":"audit log reopened (rotation or SIGHUP)"}'
same recreated_mode "$(stat -c '%a %U' "$LOG")" "600 root"
same open_after_reopen "$(open1 pfs_tb "$F2")" "ok 200"
expect deleted_copy_and_new_verify 0 "" "$PFS" audit verify --key "$KEY" "$T/deleted.copy" "$LOG"
same deleted_copy_and_new_count "$(cat "$T/.out")" "$(alog last "$LOG") lines verified"
mv "$T/deleted.copy" "$T/audit.log-1"

# ---- b. logrotate: rename, then create an empty file at the path
mv "$LOG" "$T/audit.log-2"
K=$(($(alog last "$T/audit.log-2") + 1))
install -m 0600 /dev/null "$LOG"
same rotate_create_open "$(open1 pfs_pm "$F2")" "ok 151"
same rotate_create_line_in_new "$(events "$LOG")" "$K open"
same rotate_create_old_untouched "$(alog last "$T/audit.log-2")" "$((K - 1))"
kill -HUP "$DAEMON_PID"
wait_reopen && pass rotate_create_sighup || fail rotate_create_sighup "no reopen line"
same rotate_create_events "$(events "$LOG" | head -n2 | tr '\n' ' ')" "$K open $((K + 1)) reopen "

# ---- c. a rename alone: the next line goes to a new file at the path
mv "$LOG" "$T/audit.log-3"
M=$(($(alog last "$T/audit.log-3") + 1))
same rotate_rename_open "$(open1 pfs_tb "$F1")" "ok 193"
same rotate_rename_followed "$([ -f "$LOG" ] && first_line "$LOG")" "$M open"
same rotate_rename_old_untouched "$(alog last "$T/audit.log-3")" "$((M - 1))"
kill -HUP "$DAEMON_PID"
wait_reopen && pass rotate_rename_sighup || fail rotate_rename_sighup "no reopen line"
same open_after_rotations "$(open1 pfs_pa "$F1")" "ok 60"
fusermount3 -u "$MNT"
wait "$DAEMON_PID"
same unmount_exit "$?" "0"

# ---- e. sync = batch: SIGHUP still reopens the log, and the mount goes on serving
# (the batch flusher thread must not take the signal: libfuse's handler would end
# the session).
sed -i 's/^verify_key = audit.key$/&\nsync = batch\nsync_interval_ms = 1000/' "$T/city.ini"
mount_start || exit 1
mv "$LOG" "$T/audit.log-4"
kill -HUP "$DAEMON_PID"
wait_reopen && pass batch_sighup_reopens || fail batch_sighup_reopens "no reopen line in a new $LOG within 5 s"
same batch_open_after_sighup "$(open1 pfs_tb "$F2")" "ok 200"
is_mounted && pass batch_still_mounted || fail batch_still_mounted "the mount ended after SIGHUP"
fusermount3 -u "$MNT" 2>/dev/null
wait "$DAEMON_PID"
[ -f "$LOG" ] || mv "$T/audit.log-4" "$LOG" # (no reopen: one file goes on)
[ -f "$T/audit.log-4" ] || : >"$T/audit.log-4"

# ---- d. the series in order, alone, in the wrong order
SERIES=("$T/audit.log-1" "$T/audit.log-2" "$T/audit.log-3" "$T/audit.log-4" "$LOG")
N=$(alog last "$LOG")
expect series_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "${SERIES[@]}"
same series_verify_count "$(cat "$T/.out")" "$N lines verified"
same series_seq_contiguous "$(alog seqs "${SERIES[@]}")" "seq 1..$N contiguous"
first_new=$(first_line "$LOG" | cut -d' ' -f1)
expect newest_alone_fails 1 "protocolfs: audit verify: $LOG:1: line has seq $first_new, expected 1 (a line was removed, inserted or reordered)" \
	"$PFS" audit verify --key "$KEY" "$LOG"
expect wrong_order_fails 1 "protocolfs: audit verify: $T/audit.log-3:1: line has seq $K, expected 5 (a line was removed, inserted or reordered)" \
	"$PFS" audit verify --key "$KEY" "$T/audit.log-1" "$T/audit.log-3" "$T/audit.log-2" "$LOG"
expect newest_first_fails 1 "protocolfs: audit verify: $LOG:1: line has seq $first_new, expected 1 (a line was removed, inserted or reordered)" \
	"$PFS" audit verify --key "$KEY" "$LOG" "$T/audit.log-1" "$T/audit.log-2" "$T/audit.log-3"
exit $FAILED
