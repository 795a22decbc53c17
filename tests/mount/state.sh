#!/bin/bash
# state.sh — state fails closed (CONVENTIONS 13c) on the real clock. Only an
# absent state_dir/dataset.serial means a first mount: garbled, empty, trailing
# junk, too large, a directory, a symlink, writable or owned by others is refused
# naming the file, and nothing is mounted. An accepted termination notice is
# recorded in state_dir/termination and honoured at the next mount after the
# notice file is removed; a malformed termination file refuses the mount. The
# notices folder is held to state_dir's rules; a garbled time.mark refuses too; a symlink notice is refused and
# logged once; a leased file never delays a genuine notice; 100 irrelevant
# notices are each logged once, not every second.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
D=$(days_from_today -10)
make_protocol "$T/p.ini" "$(days_from_today -30)" "$(days_from_today 365)" TEST-STATE
write_csv "$T/s.csv" "S-ONE:$D:Amina" "S-TWO:$D:Noor"
seal_csv "$T/p.ini" "$T/s.csv" "$T/dataset.pfs" 3 || {
	fail setup "seal failed"
	exit 1
}
cfg=$(make_config st)
S=$T/st.state
LOG=$T/st.log
ALL="LEESMIJ-README S-ONE.txt S-TWO.txt "

# refused NAME MESSAGE — a mount is refused with exit 2 and exactly MESSAGE, and
# nothing appears at $MNT.
refused() {
	# (a mount that succeeds would serve in the foreground: timeout ends it, exit 124)
	expect "$1" 2 "protocolfs: mount: $2" timeout 5 "$PFS" mount "$cfg" "$MNT" -f -o allow_other
	same "$1_not_mounted" "$(is_mounted && echo mounted)" ""
}

# ---- dataset.serial
SER=$S/dataset.serial
malformed="$SER: malformed (want one line \"serial N\")"
printf 'garbage\n' >"$SER" && chmod 600 "$SER"
refused serial_garbled "$malformed"
: >"$SER"
refused serial_empty "$malformed"
printf 'serial 3x\n' >"$SER"
refused serial_trailing_junk "$malformed"
printf 'serial 3\nserial 9\n' >"$SER"
refused serial_second_line "$malformed"
printf 'serial 99999999999999999999\n' >"$SER"
refused serial_too_large "$malformed"
printf 'serial 3\n' >"$SER" && chmod 666 "$SER"
refused serial_world_writable "$SER: writable by group or others (chmod go-w)"
chmod 600 "$SER" && chown pfs_tb "$SER"
refused serial_other_owner "$SER: owned by uid $(id -u pfs_tb), not by root or the daemon's user"
rm -f "$SER" && mkdir "$SER"
refused serial_directory "$SER: not a regular file"
rmdir "$SER" && printf 'serial 3\n' >"$T/elsewhere.serial" && ln -s "$T/elsewhere.serial" "$SER"
refused serial_symlink "$SER: a symbolic link, not a state file"
rm -f "$SER"
pfs_mount_start "$cfg" && pass serial_absent_first_mount
same serial_written "$(cat "$SER")" "serial 3"
same first_listing "$(listing pfs_tb)" "$ALL"

# ---- a symlink notice is refused and logged once; 100 irrelevant notices are
# logged once each, not every second; a leased file does not delay a genuine one
ND=$S/notices
mkdir -p "$ND" "$T/n"
"$PFS" terminate --issuer-key "$T/agii.key" --protocol OTHER-PROTOCOL --at "$(today)" "$T/n/other.notice" >/dev/null &&
	"$PFS" terminate --issuer-key "$T/agii.key" --protocol TEST-STATE --at "$(today)" "$T/n/good.notice" >/dev/null || {
	fail setup "terminate failed"
	exit 1
}
ln -s "$T/n/good.notice" "$ND/link.notice"
for i in $(seq 1 100); do cp "$T/n/other.notice" "$ND/.o$i.tmp" && mv "$ND/.o$i.tmp" "$ND/o$i.notice"; done
sleep 3.5
denied() { audit_events "$LOG" notice | grep -c '^denied'; }
same notices_each_logged_once "$(denied)" 101
same symlink_notice_refused "$(audit_events "$LOG" notice | grep -c "link.notice refused: $ND/link.notice: a symbolic link, not a notice")" 1
same symlink_not_followed "$(listing pfs_tb)" "$ALL"
sleep 2
same notices_not_logged_again "$(denied)" 101

# pfs_tb holds a write lease on a file of theirs in the (root-owned) folder
mkdir -m 777 "$T/sync"
# (made outside the folder and moved in once the lease is held: the keeper must
# never see it unleased, or it reads it as an empty notice and never again)
: >"$T/sync/leased.notice" && chown pfs_tb "$T/sync/leased.notice" && chmod 644 "$T/sync/leased.notice"
as pfs_tb $PY3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
open(sys.argv[2], "w").write("held\n")
time.sleep(60)
' "$T/sync/leased.notice" "$T/sync/lease.ok" 2>"$T/lease.err" &
LEASE_PID=$!
on_exit "kill $LEASE_PID 2>/dev/null"
wait_for 3 test -s "$T/sync/lease.ok" || fail lease_taken "$(cat "$T/lease.err")"
mv "$T/sync/leased.notice" "$ND/leased.notice"
sleep 1.5 # the keeper meets the leased file first
cp "$T/n/good.notice" "$ND/.g.tmp" && mv "$ND/.g.tmp" "$ND/good.notice"
only_readme() { [ "$(listing pfs_tb)" = "LEESMIJ-README " ]; }
t0=$(date +%s%N)
wait_for 3 only_readme
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -le 2000 ] && pass lease_does_not_delay_notice || fail lease_does_not_delay_notice "${ms} ms"
same terminated_listing "$(listing pfs_tb)" "LEESMIJ-README "
same leased_refused_not_waited "$(audit_events "$LOG" notice | grep -c "leased.notice refused: $ND/leased.notice: Resource temporarily unavailable")" 1
same termination_recorded "$(grep -c '^terminated -\?[0-9]*$' "$S/termination")" 1
kill $LEASE_PID 2>/dev/null
ft_mount_stop && pass clean_unmount || fail clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- the termination outlives the notice file
rm -f "$ND"/*
when=$(date -u -d "@$(TZ=Europe/Brussels date -d "$(today) 00:00" +%s)" +%Y-%m-%dT%H:%M:%SZ)
refused remount_after_rm_notice_refused "protocol TEST-STATE was terminated by notice from $when"
same remount_listing_empty "$(ls "$MNT" | tr '\n' ' ')" ""
printf 'terminated soon\n' >"$S/termination"
refused termination_garbled "$S/termination: malformed (want one line \"terminated N\")"
rm -f "$S/termination" && ln -s "$T/elsewhere.serial" "$S/termination"
refused termination_symlink "$S/termination: a symbolic link, not a state file"
rm -f "$S/termination"

# ---- time.mark: only an empty (new) file means no mark yet
cp -p "$S/time.mark" "$T/time.mark.good"
printf 'garbage' >"$S/time.mark"
refused time_mark_garbled "$S/time.mark: malformed (not a protocolfs time mark)"
head -c 15 "$T/time.mark.good" >"$S/time.mark"
refused time_mark_truncated "$S/time.mark: malformed (not a protocolfs time mark)"
cp -p "$T/time.mark.good" "$S/time.mark" && chmod 666 "$S/time.mark"
refused time_mark_world_writable "$S/time.mark: writable by group or others (chmod go-w)"
chmod 600 "$S/time.mark"

# ---- the notices folder: writable by the group, or owned by another user
chmod 770 "$ND"
refused notices_group_writable "$cfg: [dataset] notices: $ND: writable by group or others (chmod go-w)"
expect check_notices_group_writable 2 "protocolfs: check: $cfg: [dataset] notices: $ND: writable by group or others (chmod go-w)" "$PFS" check "$cfg"
chmod 755 "$ND" && chown pfs_tb "$ND"
refused notices_other_owner "$cfg: [dataset] notices: $ND: owned by uid $(id -u pfs_tb), not by root or the daemon's user"
chown root "$ND"
pfs_mount_start "$cfg" && pass mount_after_cleanup
same mount_after_cleanup_listing "$(listing pfs_tb)" "$ALL"
ft_mount_stop && pass clean_unmount_2 || fail clean_unmount_2 "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
[ "$FAILED" = 0 ]
