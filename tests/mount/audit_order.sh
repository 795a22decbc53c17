#!/bin/bash
# audit_order.sh — log before reply (test plan C, test 13; checker of Appendix B):
# strace follows the daemon while 3 users make 51 opens and 3 listings. With
# sync = always every granted open and listing has its line written (by the
# thread that answers) and flushed (fdatasync, by any thread: group commit) before
# the reply goes to the kernel. With sync = batch the line is still written before
# the reply; and the same checker finds the replies that went out before their
# flush (negative control: the checker can tell).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$(cd "$(dirname "$0")" && pwd)/py3"
PY3=/usr/bin/python3
fixture_users
fixture_dataset
fixture_config

# fd_of TARGET — the daemon's descriptor for TARGET
fd_of() {
	local f
	for f in /proc/$DAEMON_PID/fd/*; do
		[ "$(readlink "$f")" = "$1" ] && basename "$f"
	done
}
tracers() { grep -h '^TracerPid:' /proc/$DAEMON_PID/task/*/status | awk '{print ($2 != 0)}' | sort -u | tr -d '\n'; }
wait_traced() {
	local i
	for i in $(seq 1 100); do
		[ "$(tracers)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# traced_run NAME — the workload under strace; the checker's verdict in $T/check.NAME
traced_run() {
	local fuse_fd audit_fd sp u
	fuse_fd=$(fd_of /dev/fuse)
	audit_fd=$(fd_of "$T/audit.log")
	[ -n "$fuse_fd" ] && [ -n "$audit_fd" ] || fail "$1_fds" "fuse fd '$fuse_fd', audit fd '$audit_fd'"
	strace -f -qq -xx -s 64 -e trace=read,write,writev,fdatasync,fsync -e signal=none \
		-p "$DAEMON_PID" -o "$T/strace.$1" &
	sp=$!
	on_exit "kill $sp 2>/dev/null"
	wait_traced 1 || fail "$1_strace_attached" "strace did not attach"
	for u in pfs_tb pfs_pm pfs_pa; do
		as $u $PY3 "$PY/open1.py" $(for i in $(seq 1 17); do echo "$MNT/INB000000$((i % 3 + 1)).txt"; done) |
			cut -d' ' -f1 | sort | uniq -c | awk '{printf "%s %s ", $1, $2}'
		as $u ls "$MNT" >/dev/null
	done >"$T/run.$1"
	kill "$sp"
	wait "$sp" 2>/dev/null
	wait_traced 0 || fail "$1_strace_detached" "still traced"
	same "$1_all_served" "$(cat "$T/run.$1")" "17 ok 17 ok 17 ok "
	$PY3 "$PY/ordercheck.py" "$T/strace.$1" "$fuse_fd" "$audit_fd" >"$T/check.$1"
}

mount_start || exit 1
traced_run always
same always_log_before_reply "$(cat "$T/check.always")" "open granted 51 unlogged 0 unflushed 0
opendir granted 3 unlogged 0 unflushed 0"
mount_stop && pass always_clean_unmount

# sync = batch, flushed at most once a minute: written before the reply, flushed after.
sed -i 's/^verify_key = audit.key$/&\nsync = batch\nsync_interval_ms = 60000/' "$T/city.ini"
mount_start || exit 1
sleep 0.2
traced_run batch
got=$(cat "$T/check.batch")
same batch_written_before_reply "$(echo "$got" | sed 's/ unflushed .*//')" "open granted 51 unlogged 0
opendir granted 3 unlogged 0"
# (the flusher may happen to run between a write and its reply: at least one is not)
n=$(echo "$got" | sed -n 's/^open .* unflushed //p')
[ "$n" -ge 1 ] && [ "$n" -le 51 ] && pass batch_checker_sees_unflushed ||
	fail batch_checker_sees_unflushed "the checker found $n of 51 batch-mode replies before their flush"
mount_stop && pass batch_clean_unmount
expect verify 0 "" "$PFS" audit verify --key "$T/audit.key" --state "$T/state/audit.state" "$T/audit.log"
exit $FAILED
