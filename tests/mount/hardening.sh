#!/bin/bash
# hardening.sh — the running daemon refuses core dumps and keeps its secrets in
# locked memory (TESTPLAN 38, 39, 41).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
fixture_users
fixture_dataset
# The recipient key is protected by a canary passphrase the daemon must read
# from its file: the mount only works if it did (the positive control below).
CANARY="pfs-canary-$$-$RANDOM$RANDOM-passphrase"
printf '%s\n' "$CANARY" >"$T/pp"
chmod 600 "$T/pp"
"$PFS" keygen recipient "$T/city" --passphrase-file "$T/pp" --force >/dev/null
"$PFS" seal --protocol "$T/protocol.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
	--serial 1 --force "$T/export.csv" "$T/dataset.pfs" >/dev/null
fixture_config
sed -i 's/^state_dir = state/&\npassphrase_file = pp/' "$T/city.ini"
same config_has_passphrase_file "$(grep -c '^passphrase_file = pp$' "$T/city.ini")" 1
mount_start || exit 1
pid=$DAEMON_PID
same pid_is_daemon "$(readlink /proc/$pid/exe)" "$(readlink -f "$PFS")"
same core_limit_zero "$(awk '/^Max core file size/ { print $5, $6 }' /proc/$pid/limits)" "0 0"
# a non-root user of the same machine cannot read the daemon's memory or environment
out=$(as pfs_tb cat /proc/$pid/environ 2>&1 >/dev/null)
same environ_unreadable "$out" "cat: /proc/$pid/environ: Permission denied"
# has_canary PID: is the canary anywhere in the process's environment or command
# line? Both files must be readable (by root) and the command line non-empty.
has_canary() {
	local e c
	e=$(tr '\0' '\n' <"/proc/$1/environ") || { echo unreadable; return; }
	c=$(tr '\0' ' ' <"/proc/$1/cmdline") || { echo unreadable; return; }
	[ -n "$c" ] || { echo "empty cmdline"; return; }
	case "$e" in *"$CANARY"*) echo "in environ" ;; *) case "$c" in *"$CANARY"*) echo "in cmdline" ;; *) echo absent ;; esac ;; esac
}
# negative controls: the check finds the canary where it is
env PFS_HARDENING_CANARY="$CANARY" sleep 60 &
ctl=$!
bash -c 'sleep 60; :' "$CANARY" &
ctl2=$!
on_exit "kill $ctl $ctl2 2>/dev/null"
# wait until both have exec'd (before that they are copies of this shell)
for i in $(seq 1 100); do
	[[ "$(readlink /proc/$ctl/exe)" == */sleep ]] && grep -q 'sleep 60' /proc/$ctl2/cmdline && break
	sleep 0.05
done
same canary_found_in_environ_control "$(has_canary $ctl)" "in environ"
same canary_found_in_cmdline_control "$(has_canary $ctl2)" "in cmdline"
kill $ctl $ctl2 2>/dev/null
# the daemon read the passphrase (it serves records) yet holds it in neither
same passphrase_was_read "$(as pfs_tb head -1 "$MNT/INB0000001.txt")" "voornaam: Amina"
same canary_not_in_environ_or_cmdline "$(has_canary $pid)" "absent"
same cmdline_exact "$(tr '\0' ' ' </proc/$pid/cmdline)" "$PFS mount $T/city.ini $MNT -f -o allow_other "
as pfs_tb cat "$MNT/INB0000001.txt" >/dev/null
lck=$(awk '/^VmLck:/ { print $2 }' /proc/$pid/status)
if nm "$PFS" 2>/dev/null | grep -q __asan_init || grep -q libasan /proc/$pid/maps; then
	# ASan turns mlock into a no-op (TESTPLAN 6): the locked size must be 0 there
	same vmlck_asan_build_noop "$lck" "0"
else
	# file key, scratch record and rendering buffers: at least a few pages locked
	[ "${lck:-0}" -ge 8 ] && pass vmlck_keys_locked || fail vmlck_keys_locked "VmLck: ${lck} kB"
fi
mount_stop && pass clean_unmount
exit $FAILED
