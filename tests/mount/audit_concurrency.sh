#!/bin/bash
# audit_concurrency.sh — the audit log under concurrent opens and a killed daemon.
#
#  1. 8 threads of 3 users make 2000 opens (sync = always): each user's allowed
#     open lines equal the opens that user saw succeed, exactly; seq has no gap;
#     the chain verifies.
#  2. kill -9 of the daemon during such a load, with sync = always and again with
#     sync = batch: every open that returned a descriptor has its line (a line
#     whose answer never arrived may exist, at most one per thread); the log
#     verifies; after the dead mount is cleaned up a new daemon continues the
#     chain (seq and hash), and the whole log verifies, with --state after a clean
#     unmount.
#  3. With sync = batch the flusher sleeps between flushes (an idle daemon uses no
#     CPU).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py3/audit.bash"
fixture_users
fixture_dataset
fixture_config
SPEC=pfs_tb:3,pfs_pm:3,pfs_pa:2 # 8 threads
THREADS=8
KEY="$T/audit.key"
LOG="$T/audit.log"
last_seq() { alog last "$LOG"; }

# verify_after_kill NAME — the log verifies; a kill -9 inside a write(2) may leave
# a torn last line, which is accepted only as exactly that (and must be mended by
# the next start).
TORN=0
verify_after_kill() {
	local out
	out=$("$PFS" audit verify --key "$KEY" "$LOG" 2>&1)
	TORN=0
	if [ "$out" = "$(last_seq) lines verified" ]; then
		pass "$1"
	elif [ "$out" = "protocolfs audit verify: $LOG:$(($(wc -l <"$LOG") + 1)): torn last line (no newline): truncated" ]; then
		TORN=1
		pass "$1"
	else
		fail "$1" "$out"
	fi
}

# kill_cycle NAME — a load that kills the daemon after 300 successful opens, then
# the checks of part 2, then a new daemon.
kill_cycle() {
	local name=$1 from rc first want_first
	from=$(last_seq)
	{ # (the shell's "Killed" notice for the daemon job goes to /dev/null)
		$PY3 "$PY/load.py" "$MNT" "$SPEC" 100000 --kill "$DAEMON_PID" 300 >"$T/load.json" 2>"$T/load.err"
		rc=$?
		wait "$DAEMON_PID"
		echo "$rc $?" >"$T/rcs"
	} 2>/dev/null
	same "${name}_load_ran" "$(cut -d' ' -f1 "$T/rcs") $(cat "$T/load.err")" "0 "
	same "${name}_daemon_killed" "$(cut -d' ' -f2 "$T/rcs")" "137"
	verify_after_kill "${name}_verify_after_kill"
	same "${name}_successes_logged" "$(alog checkload "$T/load.json" "$from" killed $THREADS "$LOG")" "covered"
	same "${name}_opens_counted" "$($PY3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(v["ok"] for v in d.values()) >= 300)' "$T/load.json")" "True"
	fusermount3 -u -z "$MNT"
	is_mounted && fail "${name}_dead_mount_gone" "still mounted" || pass "${name}_dead_mount_gone"
	# A new daemon continues the chain where the killed one stopped.
	first=$(($(last_seq) + 1))
	mount_start || exit 1
	want_first="$first config"
	[ "$TORN" = 1 ] && want_first="$first mend"
	same "${name}_restart_continues" "$(alog norm "$LOG" | awk -v s="$first" -F'"event":"' 'NR == s { split($2, e, "\""); print s, e[1] }')" "$want_first"
	expect "${name}_verify_after_restart" 0 "" "$PFS" audit verify --key "$KEY" "$LOG"
	same "${name}_verify_after_restart_count" "$(cat "$T/.out")" "$(last_seq) lines verified"
	same "${name}_seq_contiguous" "$(alog seqs "$LOG")" "seq 1..$(last_seq) contiguous"
}

# ---- 1. 2000 concurrent opens, sync = always
mount_start || exit 1
from=$(last_seq)
$PY3 "$PY/load.py" "$MNT" "$SPEC" 250 >"$T/load.json" 2>"$T/load.err"
same load_ran "$? $(cat "$T/load.err")" "0 "
same load_all_succeeded "$($PY3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s:%d/%s/%d" % (u, v["ok"], v["errors"] or "-", v["short"]) for u, v in sorted(d.items())))' "$T/load.json")" \
	"pfs_pa:500/-/0 pfs_pm:750/-/0 pfs_tb:750/-/0"
same lines_equal_successes "$(alog checkload "$T/load.json" "$from" exact $THREADS "$LOG")" "pfs_pa 500 500
pfs_pm 750 750
pfs_tb 750 750"
same no_other_lines "$(alog norm "$LOG" | sed -n "$((from + 1)),\$p" | grep -vc '"event":"open","result":"allowed"')" "0"
same seq_contiguous "$(alog seqs "$LOG")" "seq 1..2002 contiguous"
expect verify_2000 0 "" "$PFS" audit verify --key "$KEY" "$LOG"
same verify_2000_count "$(cat "$T/.out")" "2002 lines verified"

# ---- 2a. kill -9 under load, sync = always
kill_cycle kill_always
mount_stop && pass always_clean_unmount
expect always_verify_state 0 "" "$PFS" audit verify --key "$KEY" --state "$T/state/audit.state" "$LOG"

# ---- 2b. kill -9 under load, sync = batch
sed -i 's/^verify_key = audit.key$/&\nsync = batch\nsync_interval_ms = 200/' "$T/city.ini"
mount_start || exit 1

# ---- 3. an idle daemon with sync = batch uses no CPU: its flusher waits
# sync_interval_ms between looks (10 ticks = 0.1 s of CPU in 1 s of idling would
# be a busy loop).
cpu() { awk '{ s += $14 + $15 } END { print s }' /proc/$DAEMON_PID/task/*/stat; }
sleep 0.3
c0=$(cpu)
sleep 1
c1=$(cpu)
[ $((c1 - c0)) -lt 10 ] && pass batch_flusher_idle || fail batch_flusher_idle "an idle daemon used $((c1 - c0)) clock ticks of CPU in 1 s (a thread spins)"

kill_cycle kill_batch
as pfs_tb cat "$MNT/INB0000001.txt" >/dev/null
mount_stop && pass batch_clean_unmount
expect batch_verify_state 0 "" "$PFS" audit verify --key "$KEY" --state "$T/state/audit.state" "$LOG"
same batch_verify_state_count "$(cat "$T/.out")" "$(last_seq) lines verified"
same final_seq_contiguous "$(alog seqs "$LOG")" "seq 1..$(last_seq) contiguous"
exit $FAILED
