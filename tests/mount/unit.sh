#!/bin/bash
# unit.sh — the systemd unit conf/systemd/protocolfs@.service, run the way systemd
# would run it (no systemd runs as PID 1 here): its ExecStart= line, under its
# CapabilityBoundingSet=, NoNewPrivileges= and UMask=, serves the mount; its
# ExecReload= line makes a changed config take effect; SIGTERM (systemd's stop)
# unmounts and the daemon exits 0. Every system call the daemon made (strace -f)
# must be allowed by the unit's SystemCallFilter= groups (as systemd-analyze
# syscall-filter expands them), every socket be AF_UNIX (RestrictAddressFamilies=),
# every device opened be one DevicePolicy=closed + DeviceAllow= permits, and
# nothing the other Restrict*/MemoryDenyWriteExecute settings forbid be tried.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
UNIT="$TOP/conf/systemd/protocolfs@.service"
fixture_users
fixture_dataset
fixture_config

# key VALUE of the unit's [Service] section (the last one given)
unit_key() { sed -n "s/^$1=//p" "$UNIT" | tail -n1; }

# ---- ExecStart: foreground, the instance's config, the mount point and options
opts=$(unit_key Environment | tr ' ' '\n' | sed -n 's/^OPTIONS=//p')
cmd=$(unit_key ExecStart)
same unit_execstart "$cmd" '@BINDIR@/protocolfs mount -f /etc/protocolfs/%i.ini ${MOUNTPOINT} -o ${OPTIONS}'
same unit_default_options "$opts" "allow_other"
cmd=${cmd//@BINDIR@/$TOP}
cmd=${cmd//\/etc\/protocolfs\/%i.ini/$T/city.ini}
cmd=${cmd//\$\{MOUNTPOINT\}/$MNT}
cmd=${cmd//\$\{OPTIONS\}/$opts}
same unit_reload_is_sighup "$(unit_key ExecReload)" '/bin/kill -HUP $MAINPID'

# ---- the process limits the unit sets, applied with setpriv and umask
caps=$(unit_key CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed -e 's/cap_/+/g' -e 's/ /,/g')
same unit_caps "$caps" "+sys_admin,+ipc_lock"
same unit_no_new_privs "$(unit_key NoNewPrivileges)" "yes"
umask_v=$(unit_key UMask)
# Under SANITIZE=1: LeakSanitizer cannot run under ptrace (strace)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
(
	umask "$umask_v"
	exec strace -f -qq -o "$T/strace.log" setpriv --bounding-set=-all,"$caps" --inh-caps=-all \
		--ambient-caps=-all --no-new-privs -- $cmd 2>"$DAEMON_ERR"
) &
TRACER=$!
on_exit "fusermount3 -u -z '$MNT' 2>/dev/null; kill -KILL $TRACER 2>/dev/null"
DAEMON_PID=$TRACER
mount_wait && pass unit_mounts || {
	fail unit_mounts "$(cat "$DAEMON_ERR")"
	exit 1
}
MAINPID=$(pgrep -P "$TRACER" -x protocolfs)
same unit_daemon_bounding_set "$(awk '/^CapBnd/ { print $2 }' /proc/$MAINPID/status)" "0000000000204000"
same unit_daemon_no_new_privs "$(awk '/^NoNewPrivs/ { print $2 }' /proc/$MAINPID/status)" "1"
same unit_serves "$(as pfs_tb head -n1 "$MNT/INB0000001.txt")" "voornaam: Amina"

# ---- ExecReload with a changed config: the new label shows without a remount
sed -i 's/^first_name = voornaam$/first_name = Voornaam/' "$T/city.ini"
reload=$(unit_key ExecReload)
${reload//\$MAINPID/$MAINPID}
for i in $(seq 1 100); do
	got=$(as pfs_tb head -n1 "$MNT/INB0000001.txt" 2>/dev/null) # ESTALE while it switches
	[ "$got" = "Voornaam: Amina" ] && break
	sleep 0.05
done
same unit_reload_takes_effect "$got" "Voornaam: Amina"

# ---- stop: systemd sends SIGTERM (KillSignal= default) and waits
[ -z "$(unit_key KillSignal)" ] && [ -z "$(unit_key ExecStop)" ] && pass unit_stop_is_sigterm ||
	fail unit_stop_is_sigterm "KillSignal='$(unit_key KillSignal)' ExecStop='$(unit_key ExecStop)'"
kill -TERM "$MAINPID"
wait "$TRACER"
same unit_stop_exit_0 "$? $(grep -v '^$' "$DAEMON_ERR")" "0 "
is_mounted && fail unit_stop_unmounts "still mounted" || pass unit_stop_unmounts

# ---- what the daemon did, from its exec on (setpriv's own calls are systemd's)
awk -v bin="$TOP/protocolfs" 'index($0, "execve(\"" bin "\"") { on = 1 } on' "$T/strace.log" >"$T/daemon.log"
[ -s "$T/daemon.log" ] && pass unit_traced || fail unit_traced "no execve of $TOP/protocolfs in the trace"

# expand GROUP... — the system calls a SystemCallFilter= allow list names
expand() {
	local w
	for w in "$@"; do
		case $w in
		@*) expand $(systemd-analyze syscall-filter "$w" | awk 'NR > 1 && $1 !~ /^#/ { print $1 }') ;;
		*) echo "$w" ;;
		esac
	done
}
filter=$(unit_key SystemCallFilter)
same unit_syscall_filter "$filter" "@system-service @mount"
expand $filter | LC_ALL=C sort -u >"$T/allowed"
# the expansion is an allow list, not everything
grep -qx openat "$T/allowed" && grep -qx mount "$T/allowed" && ! grep -qxE 'reboot|init_module|kexec_load|ptrace' "$T/allowed" &&
	pass unit_filter_expands || fail unit_filter_expands "$(wc -l <"$T/allowed") calls: $(paste -sd' ' "$T/allowed" | cut -c1-200)"
sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$T/daemon.log" | LC_ALL=C sort -u >"$T/used"
same unit_syscalls_allowed "$(LC_ALL=C comm -23 "$T/used" "$T/allowed" | paste -sd' ')" ""
grep -qx mount "$T/used" && pass unit_trace_has_mount || fail unit_trace_has_mount "no mount(2) in the trace: $(paste -sd' ' "$T/used")"

same unit_sockets_af_unix "$(grep -oE ' socket\(AF_[A-Z0-9]+' "$T/daemon.log" | sort -u | grep -v 'AF_UNIX')" ""
same unit_devices "$(grep -oE 'open(at)?\([^"]*"/dev/[^"]*"' "$T/daemon.log" | sed 's/.*"\(.*\)"/\1/' | sort -u |
	grep -vxE '/dev/(fuse|null|zero|full|random|urandom)')" ""
same unit_no_wx_memory "$(grep -E '(mmap|mprotect|pkey_mprotect)\(.*PROT_EXEC' "$T/daemon.log" | grep -E 'PROT_WRITE|mprotect' | head -3)" ""
same unit_no_namespaces_realtime_personality_suid "$(grep -E 'CLONE_NEW|unshare\(|setns\(|personality\(|SCHED_(FIFO|RR)|S_IS[UG]ID' "$T/daemon.log" | head -3)" ""
exit $FAILED
