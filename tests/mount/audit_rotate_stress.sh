#!/bin/bash
# audit_rotate_stress.sh — rotation under load (issue "close fail-open paths",
# lock discipline): the log renamed away and SIGHUP sent 50 times while 8 reader
# threads open and read person files. A flush that runs without the lock must not
# meet a descriptor closed (and its number reused) by the rotation: no open is
# refused (no latch), every successful open has its line in one of the files,
# and the whole rotated series verifies as one chain.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py3/audit.bash"
fixture_users
fixture_dataset
fixture_config
KEY="$T/audit.key"
LOG="$T/audit.log"
SPEC=pfs_tb:3,pfs_pm:3,pfs_pa:2
# phase NAME — one run: rotated files in $T/rot-NAME, the series verified.
phase() {
	mkdir "$T/rot-$1"
	mount_start || exit 1
	from=$(alog last "$LOG")
	$PY3 "$PY/load.py" "$MNT" "$SPEC" 1000 >"$T/load.json" 2>"$T/load.err" &
	LOAD=$!
	rotated=0
	# at least 50 rotations, all while the load runs (the load outlasts them)
	i=0
	while [ $i -lt 50 ] || kill -0 $LOAD 2>/dev/null; do
		i=$((i + 1))
		sleep 0.02
		if mv "$LOG" "$T/rot-$1/audit.log.$(printf %03d "$i")" 2>/dev/null; then
			rotated=$((rotated + 1))
		fi
		kill -HUP "$DAEMON_PID"
	done
	wait $LOAD
	same "${1}_load_ran" "$? $(cat "$T/load.err")" "0 "
	kill -0 $DAEMON_PID 2>/dev/null && pass "${1}_daemon_alive" || fail "${1}_daemon_alive" "the daemon exited"
	[ "$rotated" -ge 45 ] && pass "${1}_rotated_many" || fail "${1}_rotated_many" "only $rotated renames"
	same "${1}_all_opens_succeeded" "$($PY3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s:%d/%s" % (u, v["ok"], v["errors"] or "-") for u, v in sorted(d.items())))' "$T/load.json")" \
		"pfs_pa:2000/- pfs_pm:3000/- pfs_tb:3000/-"
	sleep 0.5
	SERIES=()
	for f in "$T"/rot-$1/audit.log.*; do [ -s "$f" ] && SERIES+=("$f"); done
	SERIES+=("$LOG")
	same "${1}_lines_equal_successes" "$(alog checkload "$T/load.json" "$from" exact 8 "${SERIES[@]}")" "pfs_pa 2000 2000
pfs_pm 3000 3000
pfs_tb 3000 3000"
	same "${1}_no_latch_message" "$(grep -c 'refusing opens\|refused until' "$DAEMON_ERR")" "0"
	# (each SIGHUP also asks for a reload: "nothing changed", not an error)
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	same "${1}_clean_unmount" "$? $(cat "$DAEMON_ERR")" "0 "
	expect "${1}_series_verify" 0 "" "$PFS" audit verify --key "$KEY" --state "$T/state/audit.state" "${SERIES[@]}"
	same "${1}_series_seq_contiguous" "$(alog seqs "${SERIES[@]}")" "seq 1..$(alog last "$LOG") contiguous"
}

phase always
# The same with sync = batch: the flusher thread flushes without the lock.
rm -f "$LOG" "$T/state/audit.state" "$KEY"
sed -i 's/^verify_key = audit.key$/&\nsync = batch\nsync_interval_ms = 5/' "$T/city.ini"
phase batch
exit $FAILED
