#!/bin/bash
# syslog.sh — [audit] syslog = local3: every audit line also goes to syslog, as
# one message holding the same JSON, for the city's central log (Art. 6). A
# real rsyslogd, started by the test on a private socket with its own config,
# writes what it receives to a file: every line arrives byte for byte, in order.
# The file stays the record and fail-closed: with rsyslogd gone, or with a
# socket nobody reads (its queue full), opens go on at full speed, and a
# "syslog" line in the file says how many lines syslog did not take. Daemon
# errors (a refused reload) go to syslog at facility daemon.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
PY="$(cd "$(dirname "$0")" && pwd)/py3"
[ -x /usr/sbin/rsyslogd ] || {
	fail rsyslogd_present "/usr/sbin/rsyslogd missing (Debian package rsyslog)"
	exit 1
}
fixture_users
fixture_dataset
SOCK=$T/log.sock
cfg=$(make_config sl)
sed -i "s|^verify_key = .*|&\nsyslog = local3\nsyslog_socket = $SOCK|" "$cfg"
LOG=$T/sl.log
cat >"$T/rsyslog.conf" <<EOC
global(maxMessageSize="64k" workDirectory="$T" parser.escapeControlCharactersOnReceive="off")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$SOCK" RateLimit.Interval="0" CreatePath="on")
template(name="msgonly" type="string" string="%msg:2:\$%\n")
template(name="daemon" type="string" string="%syslogfacility-text%.%syslogseverity-text% %msg:2:\$%\n")
if \$programname == "protocolfs" and \$syslogfacility-text == "local3" then {
	action(type="omfile" file="$T/audit.syslog" template="msgonly")
	stop
}
if \$programname == "protocolfs" then action(type="omfile" file="$T/daemon.syslog" template="daemon")
EOC
rs_start() {
	/usr/sbin/rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" 2>"$T/rsyslog.err" &
	RS=$!
	on_exit "kill $RS 2>/dev/null"
	wait_for 5 test -S "$SOCK" || fail rsyslogd_started "$(cat "$T/rsyslog.err")"
}
rs_stop() { kill "$RS" && wait "$RS" 2>/dev/null; rm -f "$SOCK"; }
# unmount; the daemon must exit 0 (its stderr may hold the syslog complaints)
stop() { fusermount3 -u "$MNT" && wait "$DAEMON_PID"; }
rs_start
pfs_mount_start "$cfg" || exit 1
F1=$MNT/INB0000001.txt
same tb_reads "$(as pfs_tb head -n1 "$F1")" "voornaam: Amina"
same pa_reads "$(as pfs_pa head -n1 "$MNT/INB0000003.txt")" "voornaam: Şükrü"
as pfs_no cat "$F1" >/dev/null 2>&1
as pfs_tb ls "$MNT" >/dev/null
# a refused reload: a daemon error
sed -i 's/^sync_interval_ms = .*//; s/^verify_key = .*/&\nsync = batch/' "$cfg"
kill -HUP "$DAEMON_PID"
wait_for 5 count_ge 1 n_events "$LOG" reload
stop && pass clean_unmount
# rsyslog writes asynchronously: wait until it has every line
wait_for 5 eval '[ "$(wc -l <"$T/audit.syslog" 2>/dev/null)" = "$(wc -l <"$LOG")" ]'
same syslog_line_count "$(wc -l <"$T/audit.syslog")" "$(wc -l <"$LOG")"
cmp -s "$LOG" "$T/audit.syslog" && pass syslog_byte_for_byte || fail syslog_byte_for_byte "$(diff "$LOG" "$T/audit.syslog" | head -5)"
same syslog_pfs_pa_line "$(grep -c "\"user\":\"pfs_pa\"" "$T/audit.syslog")" "1"
wait_for 5 test -s "$T/daemon.syslog"
same daemon_error_in_syslog "$(grep -c '^daemon.err SIGHUP: reload refused: .*\[audit\] sync changed: the running daemon cannot apply it; restart the mount$' "$T/daemon.syslog")" 1
same no_syslog_failure_line "$(n_events "$LOG" syslog)" 0
sed -i 's/^sync = batch$//' "$cfg"

# ---- rsyslogd gone: opens go on; the log says how many lines syslog missed
rs_stop
pfs_mount_start "$cfg" || exit 1
for i in 1 2 3 4 5; do as pfs_tb cat "$F1" >/dev/null || fail "gone_open_$i" "refused"; done
wait_for 3 count_ge 1 n_events "$LOG" syslog
# the config and mount lines and 5 opens, said at the next tick; then at most one
# line a minute (the failure line cannot reach syslog either), and at unmount
same gone_said_in_log "$(audit_events "$LOG" syslog | head -n1 | sed 's/^\([^|]*|[^|]*\)||\([0-9]*\) .*(\(.*\)); .*/\1 \2 \3/')" "denied|syslog unreachable 7 $SOCK: No such file or directory"
sleep 2
same gone_no_loop "$(n_events "$LOG" syslog)" 1
stop && pass gone_clean_unmount

# ---- a socket nobody reads: its queue fills, opens are never held up
$PY3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(60)' "$SOCK" "$T/deaf.ready" &
DEAF=$!
on_exit "kill $DEAF 2>/dev/null"
wait_for 3 test -e "$T/deaf.ready"
pfs_mount_start "$cfg" || exit 1
NS=$(n_events "$LOG" syslog)
t0=$(date +%s%N)
same full_opens "$(as pfs_tb $PY3 "$PY/open1.py" $(for i in $(seq 1 200); do echo "$F1"; done) | sort | uniq -c | sed 's/^ *//')" "200 ok 193"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 10000 ] && pass full_opens_not_held_up || fail full_opens_not_held_up "$ms ms for 200 opens"
wait_for 3 count_ge $((NS + 1)) n_events "$LOG" syslog
same full_said_in_log "$(audit_events "$LOG" syslog | tail -n1 | cut -d'|' -f1,2)" "denied|syslog queue full"
stop && pass full_clean_unmount
kill $DEAF 2>/dev/null
expect verify_all 0 "" "$PFS" audit verify --key "$T/sl.audit.key" --state "$T/sl.state/audit.state" "$LOG"
exit $FAILED
