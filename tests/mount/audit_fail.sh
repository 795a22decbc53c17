#!/bin/bash
# audit_fail.sh — fail-closed audit (test plan C, tests 14-16):
#  a. the log's file system is full (tmpfs size=64k): every open is refused with
#     EIO and nothing is served, a listing too; a write cut short is cut back (no
#     torn line stays); once there is room again opens are served; the log
#     verifies.
#  a2. a write(2) that fails (strace injects ENOSPC) refuses the open but does not
#     latch.
#  b. a failed fdatasync (strace injection) latches: the open is refused (EIO, no
#     bytes) and so is every later one after strace is gone, until a restart; the
#     refused open's line (in the file, reading "allowed") is revoked by a
#     flush-failed line and by the restart's recover line, `audit report` shows it
#     as "denied (flush failed)", and the log verifies.
#  c. the same under 8 concurrent threads: `audit report` shows as allowed exactly
#     the opens the clients saw succeed.
#  d. sync = batch: a failed flush latches too, but an open that was served before
#     it is not reported as denied (its data was shown).
#  d2. sync = batch: an fdatasync that fails while the daemon follows a renamed log,
#     or reopens it on SIGHUP, latches like the flusher's.
#  e. a torn last line (a write cut short by a crash) is found by verify, and the
#     next start removes it and writes a "mend" line; the log verifies again.
# Each part has its own log, key and state (the config's [audit] paths changed).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py3/audit.bash"
fixture_users
fixture_dataset
fixture_config

# use_log NAME [LOGPATH] — give the next mount its own log, key and state.
use_log() {
	N=$1
	LOG=${2:-$T/$1.log}
	KEY=$T/$1.key
	STATE=$T/state_$1/audit.state
	mkdir -p "$T/state_$1"
	sed -i -e "s|^state_dir = .*|state_dir = state_$1|" -e "s|^log = .*|log = $LOG|" \
		-e "s|^verify_key = .*|verify_key = $1.key|" -e '/^sync/d' "$T/city.ini"
}
set_sync() { sed -i "s|^verify_key = .*|&\nsync = $1\nsync_interval_ms = ${2:-1000}|" "$T/city.ini"; }

# all_traced / none_traced — every thread of the daemon is (not) under ptrace.
tracers() { grep -h '^TracerPid:' /proc/$DAEMON_PID/task/*/status 2>/dev/null | awk '{print ($2 != 0)}' | sort -u | tr -d '\n'; }
wait_traced() {
	local i
	for i in $(seq 1 100); do
		[ "$(tracers)" = "$1" ] && return 0
		[ "$1" = 0 ] && ! kill -0 "$DAEMON_PID" 2>/dev/null && return 0 # gone
		sleep 0.05
	done
	return 1
}
# inject_eio [WHEN [DELAY_US]] — fail the daemon's fdatasync calls with EIO (every
# one, or from each thread's WHENth on; after a stall of DELAY_US) by strace in the
# background.
inject_eio() {
	strace -f -qq -p "$DAEMON_PID" -e trace=fdatasync \
		-e inject=fdatasync:error=EIO${1:+:when=$1}${2:+:delay_enter=$2} -o "$T/strace.$N" &
	SP=$!
	on_exit "kill $SP 2>/dev/null"
	wait_traced 1 || fail "${N}_strace_attached" "strace did not attach"
}
uninject() {
	kill "$SP" 2>/dev/null
	wait "$SP" 2>/dev/null
	wait_traced 0 && pass "${N}_strace_detached" || fail "${N}_strace_detached" "still traced"
}
# stop_latched — unmount a daemon that refuses to log (its unmount line fails too);
# it must still exit.
stop_latched() {
	local i
	fusermount3 -u "$MNT"
	for i in $(seq 1 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "${N}_latched_daemon_exits" "still running 5 s after fusermount3 -u"
		kill "$DAEMON_PID"
	else
		pass "${N}_latched_daemon_exits"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	same "${N}_latched_daemon_exit" "$? $(cat "$DAEMON_ERR")" "0 protocolfs: audit log $LOG: flush failed: Input/output error; refusing opens"
}
# event_at SEQ — "event result revoke_from-revoke_to" of line SEQ
event_at() {
	echo "$(alog field "$1" event "$LOG") $(alog field "$1" result "$LOG") $(alog field "$1" revoke_from "$LOG")-$(alog field "$1" revoke_to "$LOG")" | tr -d '"'
}
# results USER — the result column of `audit report --user USER`, one per line
results() {
	"$PFS" audit report --user "$1" --format csv "$LOG" | $PY3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
print("\n".join("%s %s" % (r[4], r[5]) for r in rows[1:]))'
}

# ---- a. disk full: the log alone on a 64 KiB tmpfs
mkdir -p "$T/tfs"
mount -t tmpfs -o size=64k,mode=0700 pfs-audit-test "$T/tfs" || { fail tmpfs_mount "cannot mount tmpfs"; exit 1; }
on_exit "umount -l '$T/tfs'"
use_log full "$T/tfs/audit.log"
mount_start || exit 1
same full_open_before "$(open1 pfs_tb "$F1")" "ok 193"
dd if=/dev/zero of="$T/tfs/filler" bs=4096 2>/dev/null
same full_filler_hit_enospc "$?" "1"
# The log's last page may still hold a line or so; watch the writes from here on.
strace -f -qq -p "$DAEMON_PID" -e trace=write,ftruncate -e signal=none -o "$T/strace.full" &
SP=$!
wait_traced 1 || fail full_strace_attached "strace did not attach"
open1 pfs_tb $(for i in $(seq 1 12); do echo "$F1"; done) >"$T/full.out"
first_fail=$(grep -n -m1 -v '^ok ' "$T/full.out" | cut -d: -f1)
# At most 4096 / ~480 bytes of room were left: the 9th open at the latest is refused.
[ -n "$first_fail" ] && [ "$first_fail" -le 9 ] && pass full_refused_within_page ||
	fail full_refused_within_page "$(tr '\n' ' ' <"$T/full.out")"
same full_refused_eio "$(sed -n "$first_fail,\$p" "$T/full.out" | sort | uniq -c | sed 's/^ *//')" "$((13 - first_fail)) errno EIO"
size_full=$(stat -c %s "$LOG")
same full_refuse_100 "$(open1 pfs_tb $(for i in $(seq 1 100); do echo "$F2"; done) | sort | uniq -c | sed 's/^ *//')" "100 errno EIO"
same full_ls_refused "$(as pfs_tb ls "$MNT" 2>&1)" "ls: cannot open directory '$MNT': Input/output error"
same full_log_unchanged "$(stat -c %s "$LOG")" "$size_full"
same full_log_whole_lines "$(tail -c 1 "$LOG" | od -An -c | tr -d ' ')" '\n'
kill "$SP"
wait "$SP" 2>/dev/null
# A write that fit only in part was cut back to the line before (ftruncate).
same full_short_write_cut_back "$($PY3 -c '
import re, sys
short = cut = 0
for line in open(sys.argv[1]):
    m = re.search(r"write\(\d+, .*, (\d+)\) += (-?\d+)", line)
    if m and 0 < int(m.group(2)) < int(m.group(1)):
        short += 1
    if re.search(r"ftruncate\(\d+, \d+\) += 0", line):
        cut += 1
print("short writes", short > 0, "all cut back", short == cut)' "$T/strace.full")" "short writes True all cut back True"
kill -0 "$DAEMON_PID" && pass full_daemon_alive || fail full_daemon_alive "the daemon died"
rm -f "$T/tfs/filler"
same full_open_after_room "$(open1 pfs_tb "$F1" "$F2")" "ok 193
ok 200"
# The daemon said why it refused (on stderr, once per refusal) and exits 0.
fusermount3 -u "$MNT"
wait "$DAEMON_PID"
same full_unmount "$? $(sort -u "$DAEMON_ERR")" "0 protocolfs: audit log $LOG: cannot write: No space left on device; refusing opens"
expect full_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"
same full_verify_count "$(cat "$T/.out")" "$(alog last "$LOG") lines verified"
same full_seq_contiguous "$(alog seqs "$LOG")" "seq 1..$(alog last "$LOG") contiguous"

# ---- a2. a write(2) of the log that fails (ENOSPC injected) refuses the open
# (EIO) but does not latch: the next open, once writes work again, is served.
use_log wfail
mount_start || exit 1
same wfail_open_before "$(open1 pfs_tb "$F1")" "ok 193"
before=$(alog last "$LOG")
strace -f -qq -p "$DAEMON_PID" -e trace=write -e inject=write:error=ENOSPC -o "$T/strace.wfail" &
SP=$!
wait_traced 1 || fail wfail_strace_attached "strace did not attach"
same wfail_open_refused "$(open1 pfs_tb "$F1")" "errno EIO"
kill "$SP"
wait "$SP" 2>/dev/null
wait_traced 0 || fail wfail_strace_detached "still traced"
same wfail_nothing_written "$(alog last "$LOG")" "$before"
same wfail_not_latched "$(open1 pfs_tb "$F2")" "ok 200"
same wfail_line_after "$(alog field $((before + 1)) path "$LOG")" '"/INB0000002.txt"'
fusermount3 -u "$MNT"
wait "$DAEMON_PID"
same wfail_unmount "$?" "0"
expect wfail_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"
same wfail_verify_count "$(cat "$T/.out")" "$((before + 2)) lines verified"

# ---- b. a failed fdatasync latches until restart
use_log latch
mount_start || exit 1
same latch_open_before "$(open1 pfs_tb "$F1")" "ok 193"
before=$(alog last "$LOG")
inject_eio
same latch_open_refused "$(open1 pfs_tb "$F1")" "errno EIO"
uninject
same latch_stays_refused "$(open1 pfs_tb "$F1" "$F2" "$F1"; open1 pfs_pm "$F2"; open1 pfs_pa "$F1")" "errno EIO
errno EIO
errno EIO
errno EIO
errno EIO"
same latch_ls_refused "$(as pfs_tb ls "$MNT" 2>&1)" "ls: cannot open directory '$MNT': Input/output error"
r=$((before + 1))
same latch_refused_line_in_file "$(event_at $r)" "open allowed null-null"
same latch_flush_failed_line "$(event_at $((r + 1)))" "flush-failed null $r-$r"
same latch_nothing_after "$(alog last "$LOG")" "$((r + 1))"
stop_latched
mount_start || exit 1
same latch_recover_line "$(event_at $((r + 2)))" "recover null $r-$r"
same latch_after_restart "$(alog norm "$LOG" | sed -n "$((r + 3)),\$p" | cut -d, -f2)" '"event":"config"
"event":"mount"'
same latch_open_after_restart "$(open1 pfs_tb "$F2")" "ok 200"
mount_stop && pass latch_clean_unmount
same latch_report "$(results pfs_tb)" "open allowed
open denied (flush failed)
open allowed"
expect latch_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"
same latch_verify_count "$(cat "$T/.out")" "$(alog last "$LOG") lines verified"
"$PFS" audit anomalies "$LOG" >"$T/anom" 2>&1
same latch_anomalies "$(cut -c23- "$T/anom" | sed 's/; report to the issuer before .*//')" "log-failure  audit log flush failed; lines $r-$r were refused
log-failure  audit log flush failed; lines $r-$r were refused"

# ---- c. the latch under 8 concurrent threads: from each thread's 20th fdatasync
# on, it stalls for 0.2 s (so that the other threads write their lines and wait
# for the flush: group commit) and fails. The report counts as allowed exactly the
# client's successes: every line whose open was refused is revoked.
use_log conc
mount_start || exit 1
inject_eio 20+ 200000
$PY3 "$PY/load.py" "$MNT" pfs_tb:3,pfs_pm:3,pfs_pa:2 150 >"$T/load.json" 2>"$T/load.err"
same conc_load_ran "$? $(cat "$T/load.err")" "0 "
uninject
stop_latched
mount_start || exit 1
mount_stop && pass conc_clean_unmount
got=$($PY3 -c '
import json, sys
load = json.load(open(sys.argv[1]))
print(" ".join("%s:%d" % (u, v["ok"]) for u, v in sorted(load.items())),
      "refused" if sum(v["errors"].get("EIO", 0) for v in load.values()) else "none refused")' "$T/load.json")
rep=""
for u in pfs_pa pfs_pm pfs_tb; do
	n=$(results $u | grep -c '^open allowed$')
	rep+="$u:$n "
done
same conc_report_equals_clients "$got" "${rep% } refused"
expect conc_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"


# ---- d. sync = batch: a served open stays a grant when the later flush fails
use_log batch
set_sync batch 200
mount_start || exit 1
same batch_open_before "$(open1 pfs_tb "$F1")" "ok 193"
sleep 0.5 # flushed
before=$(alog last "$LOG")
inject_eio
same batch_open_served "$(open1 pfs_tb "$F2")" "ok 200"
for i in $(seq 1 60); do
	[ "$(alog field $((before + 2)) event "$LOG")" = '"flush-failed"' ] && break
	sleep 0.05
done
# (the open was answered before the flush: nothing to revoke)
same batch_flush_failed_line "$(event_at $((before + 2)))" "flush-failed null null-null"
same batch_latched "$(open1 pfs_tb "$F1")" "errno EIO"
uninject
stop_latched
mount_start || exit 1
same batch_recover_line "$(event_at $((before + 3)))" "recover null null-null"
mount_stop && pass batch_clean_unmount
got=$(results pfs_tb | sed -n 2p)
[ "$got" = "open allowed" ] && pass batch_served_open_not_denied ||
	fail batch_served_open_not_denied "the open that returned 200 bytes is reported as '$got'"
expect batch_verify 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"

# ---- d2. sync = batch (flushed once a minute): an fdatasync that fails when the
# daemon follows a renamed log, or reopens it on SIGHUP, latches like any other:
# the next open is refused.
for how in rename sighup; do
	use_log "b$how"
	set_sync batch 60000
	mount_start || exit 1
	same "b${how}_open_before" "$(open1 pfs_tb "$F1")" "ok 193"
	inject_eio
	if [ $how = rename ]; then
		mv "$LOG" "$LOG.1"
		open1 pfs_tb "$F2" >/dev/null # follows the rename (its fdatasync of the old file fails)
	else
		kill -HUP "$DAEMON_PID" # reopens the same file (its fdatasync of it fails)
		for i in $(seq 1 100); do grep -q '"event":"reopen"' "$LOG" && break; sleep 0.05; done
		sleep 0.3
		: >"$LOG.1" # (one file here: the series is an empty file and the log)
	fi
	same "b${how}_latched" "$(open1 pfs_tb "$F1")" "errno EIO"
	uninject
	fusermount3 -u "$MNT" 2>/dev/null
	wait "$DAEMON_PID"
	[ -f "$LOG" ] || : >"$LOG" # (a daemon that refused to follow made no new file)
	expect "b${how}_verify" 0 "" "$PFS" audit verify --key "$KEY" "$LOG.1" "$LOG"
done

# ---- e. a torn last line is found, then mended at the next start
use_log torn
mount_start || exit 1
same torn_open "$(open1 pfs_tb "$F1")" "ok 193"
mount_stop && pass torn_clean_unmount
n=$(alog last "$LOG")
torn='{"seq":'$((n + 1))',"ts":"2026-'
printf '%s' "$torn" >>"$LOG"
expect torn_verify_finds "1" "protocolfs: audit verify: $LOG:$((n + 1)): torn last line (no newline): truncated" \
	"$PFS" audit verify --key "$KEY" "$LOG"
mount_start || exit 1
mount_stop && pass torn_clean_unmount_2
same torn_mend_line "$(alog norm "$LOG" | sed -n "$((n + 1))p")" '{"seq":'$((n + 1))',"event":"mend","result":null,"reason":null,"uid":null,"user":null,"pid":null,"comm":null,"profile":null,"path":null,"record":null,"fields":[],"detail":"removed a torn last line of '${#torn}' bytes (a write was cut short)"}'
expect torn_verify_after_mend 0 "" "$PFS" audit verify --key "$KEY" --state "$STATE" "$LOG"
same torn_verify_count "$(cat "$T/.out")" "$((n + 4)) lines verified"
"$PFS" audit anomalies "$LOG" >"$T/anom" 2>&1
same torn_anomaly "$(cut -c23- "$T/anom" | sed 's/; report to the issuer before .*//')" "log-failure  a torn audit line was removed"
exit $FAILED
