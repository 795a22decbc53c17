#!/bin/bash
# audit_hostile.sh — the audit log against what a caller or a co-tenant of its
# folder controls (issue "close fail-open paths"):
#  u. a process name set by prctl to invalid UTF-8 and lookups of names holding
#     every byte 0x01..0xff (but '/'): every line is strict UTF-8 JSON, the chain
#     verifies, the lookups are all logged.
#  r. while mounted, the log renamed away and another user's file put at its path:
#     the next open is refused, nothing is written into that file, and every open
#     after it too (latched), with a message on stderr.
#  s. while mounted, a symlink at the log path: refused, the target untouched.
#  d. start-up: a group-writable log folder, a symlink at the log path, another
#     user's log, a log locked by a running daemon, a missing or garbled state, a
#     log that does not continue the state: each refused with its own message.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py3/audit.bash"
fixture_users
fixture_dataset
fixture_config
KEY="$T/audit.key"
LOG="$T/audit.log"
# startup NAME MESSAGE — a mount that must be refused with exactly MESSAGE
startup() {
	local err
	mkdir -p "$T/mnt2"
	timeout 20 "$PFS" mount "$T/city.ini" "$T/mnt2" -f >/dev/null 2>"$T/start.err"
	err=$(cat "$T/start.err")
	fusermount3 -u -z "$T/mnt2" 2>/dev/null
	same "$1" "$err" "$2"
}

# ---- u. hostile bytes
mount_start || exit 1
# (20 names: a caller's first 20 denials in a minute are written in full; the
# writer's escaping of every byte is tested in tests/unit/test_audit.c)
B=01,09,0a,1f,20,22,5c,7f,80,bf,c0,c1,e0,ed,f4,f5,fe,ff,41,7e
same u_lookups "$(as pfs_no env BYTES=$B $PY3 "$PY/badnames.py" '\xff\xfe\xc0\xaf\xed\xa0\x80"\\\x01' "$MNT")" "20"
same u_open_hostile_comm "$(as pfs_tb $PY3 "$PY/badnames.py" 'a\xf4\x90\x80\x80\x7f' "$MNT" "$F1" | tail -n1)" "ok 193"
same u_strict_utf8_json "$($PY3 "$PY/strictlines.py" "$LOG")" "$(wc -l <"$LOG") lines"
same u_lookup_lines "$(grep -c '"event":"lookup","result":"denied"' "$LOG")" "20"
same u_comm_escaped "$(grep -m1 -o '"comm":"[^,]*,' "$LOG" | head -n1)" '"comm":"\u00ff\u00fe\u00c0\u00af\u00ed\u00a0\u0080\"\\\u0001",'
same u_path_ff "$(grep -c '"path":"/x\\u00ffy"' "$LOG")" "1"
expect u_verify 0 "" "$PFS" audit verify --key "$KEY" "$LOG"

# ---- r. replaced by another user's file while mounted
mv "$LOG" "$T/audit.log.1"
: >"$LOG"
chown pfs_no "$LOG"
chmod 0600 "$LOG"
same r_open_refused "$(open1 pfs_tb "$F1")" "errno EIO"
same r_nothing_written "$(stat -c %s "$LOG")" "0"
chown root "$LOG"
same r_latched "$(open1 pfs_tb "$F1")" "errno EIO"
same r_still_nothing "$(stat -c %s "$LOG")" "0"
same r_message "$(grep -c "protocolfs: audit log: $LOG: the audit log is owned by uid $(id -u pfs_no), not by the daemon's user (uid 0): refused; every open is refused until the daemon restarts" "$DAEMON_ERR")" "1"
fusermount3 -u "$MNT"
wait "$DAEMON_PID"
rm -f "$LOG"
mv "$T/audit.log.1" "$LOG"

# ---- s. a symlink at the path while mounted
mount_start || exit 1
same s_open_before "$(open1 pfs_tb "$F1")" "ok 193"
mv "$LOG" "$T/audit.log.1"
: >"$T/target"
ln -s "$T/target" "$LOG"
same s_open_refused "$(open1 pfs_tb "$F1")" "errno EIO"
same s_target_untouched "$(stat -c %s "$T/target")" "0"
same s_message "$(grep -c "protocolfs: audit log: $LOG: the audit log is a symbolic link: refused" "$DAEMON_ERR")" "1"
fusermount3 -u "$MNT"
wait "$DAEMON_PID"
rm -f "$LOG"
mv "$T/audit.log.1" "$LOG"
expect s_verify 0 "" "$PFS" audit verify --key "$KEY" "$LOG"

# ---- d. start-up refusals, each with its own message
ln -s "$T/target" "$T/audit.log.lnk"
mv "$LOG" "$T/audit.log.real"
mv "$T/audit.log.lnk" "$LOG"
startup d_symlink "protocolfs: mount: $LOG: the audit log is a symbolic link: refused"
rm "$LOG"
mv "$T/audit.log.real" "$LOG"
chown pfs_no "$LOG"
startup d_foreign_owner "protocolfs: mount: $LOG: the audit log is owned by uid $(id -u pfs_no), not by the daemon's user (uid 0): refused"
chown root "$LOG"
chmod 0620 "$LOG"
startup d_group_writable_log "protocolfs: mount: $LOG: the audit log is writable by group or others: refused (chmod 600)"
chmod 0600 "$LOG"
chmod 0775 "$T"
startup d_group_writable_folder "protocolfs: mount: $T: the audit log's folder is writable by group or others (chmod go-w)"
chmod 0755 "$T"
mount_start || exit 1
startup d_locked "protocolfs: mount: $T/state/audit.lock: the audit log is in use by a running daemon"
mount_stop
cp -p "$T/state/audit.state" "$T/state.keep"
rm "$T/state/audit.state"
startup d_state_missing "protocolfs: mount: $LOG: an audit log exists but $T/state/audit.state does not: the chain cannot be continued (move the old log away and keep it)"
head -c 100 /dev/urandom >"$T/state/audit.state"
startup d_state_garbled "protocolfs: mount: $T/state/audit.state: not a protocolfs audit state file"
cp -p "$T/state.keep" "$T/state/audit.state"
sed -i '$ s/"event":"[a-z-]*"/"event":"edited"/' "$LOG"
startup d_log_edited "protocolfs: mount: $LOG: byte $(($(stat -c %s "$LOG") - $(tail -n1 "$LOG" | wc -c))): the log does not continue the audit state: check with protocolfs audit verify"
exit $FAILED
