#!/bin/bash
# lifecycle.sh — starting and stopping the daemon: background and foreground
# mounts, fusermount3 -u / umount / SIGTERM / SIGINT, unmounting with a file held
# open, a tampered dataset, the mount(8)/fstab forms, and a protocol that has ended.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$(cd "$(dirname "$0")" && pwd)/py2"
PY3=/usr/bin/python3 # the system interpreter: other users cannot run root's pyenv shims
fixture_users
fixture_dataset
fixture_config
on_exit "fusermount3 -u -z '$MNT' 2>/dev/null"
FIRST_LINE="voornaam: Amina"

# gone PID — the process has exited (absent, or a zombie nobody reaps), within 5 s.
gone() {
	local i
	for i in $(seq 1 100); do
		[ -e /proc/$1 ] || return 0
		[ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	return 1
}
# bg_pid — the background daemon serving $MNT from $T/city.ini (exact command line)
bg_pid() { pgrep -x -f "$PFS mount $T/city.ini $MNT -o allow_other"; }
# flags_ok — the mount's flags are the safe ones whatever the caller asked for
flags_ok() {
	awk -v m="$MNT" '$5 == m && $6 ~ /^ro,nosuid,nodev,noexec(,|$)/ && / - fuse\.protocolfs protocolfs / &&
		$NF ~ /(^|,)allow_other(,|$)/ { f = 1 } END { exit !f }' /proc/self/mountinfo
}
mnt_line() { grep " $MNT " /proc/self/mountinfo; }

# ---- background mount: returns 0 once mounted; the daemon keeps serving
"$PFS" mount "$T/city.ini" "$MNT" -o allow_other >"$T/bg.out" 2>"$T/bg.err"
rc=$?
same bg_mount_exit_0 "$rc $(cat "$T/bg.out" "$T/bg.err")" "0 "
is_mounted && pass bg_mounted_on_return || fail bg_mounted_on_return "not mounted when mount returned"
P=$(bg_pid)
[ -n "$P" ] && [ "$(echo "$P" | wc -l)" = 1 ] && pass bg_one_daemon || fail bg_one_daemon "daemon pids: '$P'"
sleep 0.3
same bg_serves "$(as pfs_tb head -n1 "$MNT/INB0000001.txt")" "$FIRST_LINE"
same bg_daemon_detached "$(ps -o sid= -p "$P" | tr -d ' ')" "$P"
same bg_daemon_stdio_devnull "$(readlink /proc/$P/fd/0 /proc/$P/fd/1 /proc/$P/fd/2 | paste -sd' ')" "/dev/null /dev/null /dev/null"
flags_ok && pass bg_flags || fail bg_flags "$(mnt_line)"
out=$(fusermount3 -u "$MNT" 2>&1)
same bg_fusermount_u "$? $out" "0 "
gone "$P" && pass bg_daemon_exits_after_fusermount || fail bg_daemon_exits_after_fusermount "pid $P still running after 5 s"
is_mounted && fail bg_unmounted "still mounted" || pass bg_unmounted

# background, stopped with umount(8)
"$PFS" mount "$T/city.ini" "$MNT" -o allow_other && P=$(bg_pid)
out=$(umount "$MNT" 2>&1)
same bg_umount "$? $out" "0 "
gone "$P" && pass bg_daemon_exits_after_umount || fail bg_daemon_exits_after_umount "pid $P still running after 5 s"

# ---- foreground daemon: SIGTERM, SIGINT and umount(8) each end it with exit 0.
# A non-interactive bash starts `&` jobs with SIGINT ignored, and libfuse keeps an
# ignored disposition, so the daemon is started with SIGINT reset to the default
# (as from a terminal).
fg_start() {
	env --default-signal=INT,TERM "$PFS" mount "$T/city.ini" "$MNT" -f -o allow_other 2>"$DAEMON_ERR" &
	DAEMON_PID=$!
	mount_wait || { fail fg_start "$(cat "$DAEMON_ERR")"; exit 1; }
}
on_exit 'fusermount3 -u -z "$MNT" 2>/dev/null; [ -n "$DAEMON_PID" ] && kill -KILL $DAEMON_PID 2>/dev/null'
# fg_end NAME — the foreground daemon must exit 0 within 5 s with nothing on stderr
fg_end() {
	if gone "$DAEMON_PID"; then
		wait "$DAEMON_PID"
		same "$1" "$? $(grep -v '^$' "$DAEMON_ERR")" "0 "
	else
		fail "$1" "daemon $DAEMON_PID still running 5 s later"
		fusermount3 -u -z "$MNT" 2>/dev/null
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID"
	fi
	DAEMON_PID=""
}
for how in TERM INT umount; do
	fg_start
	same "fg_serves_before_$how" "$(as pfs_pa head -n1 "$MNT/INB0000002.txt")" "voornaam: Oleksandra"
	if [ $how = umount ]; then umount "$MNT"; else kill -$how "$DAEMON_PID"; fi
	fg_end "fg_exit_0_on_$how"
	is_mounted && { fail "fg_unmounted_on_$how" "$(mnt_line)"; fusermount3 -u -z "$MNT"; } || pass "fg_unmounted_on_$how"
done

# ---- unmount while a file is held open: fusermount3 -u and umount refuse (EBUSY),
# the mount keeps serving; fusermount3 -u -z detaches it at once, the open
# descriptor still reads, and the daemon exits 0 when the file is closed.
fg_start
mkdir -p "$T/sync" && chown pfs_tb "$T/sync"
as pfs_tb $PY3 "$PY/holdopen.py" "$MNT/INB0000001.txt" "$T/sync/ready" "$T/sync/go" >"$T/held.out" 2>&1 &
HOLDER=$!
for i in $(seq 1 100); do [ -e "$T/sync/ready" ] && break; sleep 0.05; done
[ -e "$T/sync/ready" ] && pass held_open || fail held_open "the holder did not open the file: $(cat "$T/held.out")"
out=$(fusermount3 -u "$MNT" 2>&1)
same busy_fusermount_u "$? $out" "1 fusermount3: failed to unmount $MNT: Device or resource busy"
out=$(umount "$MNT" 2>&1)
same busy_umount "$? $out" "32 umount: $MNT: target is busy."
is_mounted && kill -0 "$DAEMON_PID" && pass busy_still_mounted_and_serving || fail busy_still_mounted_and_serving "gone"
same busy_new_open_still_works "$(as pfs_tb head -n1 "$MNT/INB0000001.txt")" "$FIRST_LINE"
out=$(fusermount3 -u -z "$MNT" 2>&1)
same lazy_fusermount_u_z "$? $out" "0 "
is_mounted && fail lazy_detached "$(mnt_line)" || pass lazy_detached
sleep 0.2
kill -0 "$DAEMON_PID" 2>/dev/null && pass lazy_daemon_serves_open_fd || fail lazy_daemon_serves_open_fd "daemon exited while a file was open"
touch "$T/sync/go"
wait "$HOLDER"
same lazy_open_fd_reads "$(head -n1 "$T/held.out")" "$FIRST_LINE"
fg_end lazy_daemon_exit_0_after_close

# ---- a tampered dataset: refused, named, nothing mounted, file left as it was
cp "$T/dataset.pfs" "$T/good.pfs"
# flip FILE OFFSET — xor one byte with 0x01
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
SIZE=$(stat -c %s "$T/dataset.pfs")
for where in middle last; do
	cp "$T/good.pfs" "$T/dataset.pfs"
	[ $where = middle ] && flip "$T/dataset.pfs" $((SIZE / 2)) || flip "$T/dataset.pfs" $((SIZE - 1))
	cp "$T/dataset.pfs" "$T/tampered.pfs"
	for mode in fg bg; do
		if [ $mode = fg ]; then
			timeout 20 "$PFS" mount "$T/city.ini" "$MNT" -o allow_other -f >"$T/t.out" 2>"$T/t.err"
		else
			timeout 20 "$PFS" mount "$T/city.ini" "$MNT" -o allow_other >"$T/t.out" 2>"$T/t.err"
		fi
		rc=$?
		err=$(cat "$T/t.err")
		if [ $rc = 1 ] && [ "$(wc -l <"$T/t.err")" = 1 ] && [[ "$err" == "protocolfs: mount: $T/city.ini: [dataset] path: $T/dataset.pfs: "* ]] &&
			[ ! -s "$T/t.out" ]; then
			pass "tampered_${where}_${mode}_refused"
		else
			fail "tampered_${where}_${mode}_refused" "exit $rc, stdout '$(cat "$T/t.out")', stderr '$err'"
		fi
		is_mounted && { fail "tampered_${where}_${mode}_not_mounted" "$(mnt_line)"; fusermount3 -u -z "$MNT"; } ||
			pass "tampered_${where}_${mode}_not_mounted"
		[ -z "$(bg_pid)" ] && pass "tampered_${where}_${mode}_no_daemon" || fail "tampered_${where}_${mode}_no_daemon" "$(bg_pid)"
		cmp -s "$T/dataset.pfs" "$T/tampered.pfs" && pass "tampered_${where}_${mode}_file_untouched" ||
			fail "tampered_${where}_${mode}_file_untouched" "dataset.pfs changed"
	done
done
cp "$T/good.pfs" "$T/dataset.pfs"

# ---- mount(8) and fstab. mount.fuse3 runs "/bin/sh -c 'TYPE SOURCE MNT -o rw,...,dev,suid'",
# and util-linux mount (2.38) drops PATH for its helpers, so `-t fuse.protocolfs`
# finds protocolfs only in sh's default path; `-t fuse PROGRAM#SOURCE` names it.
out=$(PATH=$TOP:$PATH timeout 20 mount -t fuse "$PFS#$T/city.ini" "$MNT" -o allow_other 2>&1)
same mount_t_fuse_hash_form "$? $out" "0 "
flags_ok && pass mount_t_fuse_flags || fail mount_t_fuse_flags "$(mnt_line)"
same mount_t_fuse_serves "$(as pfs_pa head -n1 "$MNT/INB0000001.txt")" "$FIRST_LINE"
out=$(umount "$MNT" 2>&1)
same mount_t_fuse_umount "$? $out" "0 "
is_mounted && fail mount_t_fuse_unmounted "$(mnt_line)" || pass mount_t_fuse_unmounted

echo "$PFS#$T/city.ini $MNT fuse allow_other 0 0" >"$T/fstab"
out=$(timeout 20 mount -T "$T/fstab" "$MNT" 2>&1)
same fstab_hash_form_mount "$? $out" "0 "
flags_ok && pass fstab_hash_form_flags || fail fstab_hash_form_flags "$(mnt_line)"
same fstab_hash_form_serves "$(as pfs_tb head -n1 "$MNT/INB0000001.txt")" "$FIRST_LINE"
out=$(umount "$MNT" 2>&1)
same fstab_hash_form_umount "$? $out" "0 "

# the fuse.protocolfs type: in a private mount namespace where protocolfs is on
# sh's default path (a bind mount over /usr/local/bin that only this namespace sees)
mkdir -p "$T/bin"
ln -s "$PFS" "$T/bin/protocolfs"
echo "$T/city.ini $MNT fuse.protocolfs allow_other 0 0" >"$T/fstab2"
cat >"$T/ns.sh" <<EOS
mount --bind "$T/bin" /usr/local/bin || exit 9
trap 'umount -l "$MNT" 2>/dev/null' EXIT
for form in cmdline fstab; do
	if [ \$form = cmdline ]; then
		out=\$(PATH=$TOP:\$PATH timeout 20 mount -t fuse.protocolfs "$T/city.ini" "$MNT" -o allow_other 2>&1)
	else
		out=\$(timeout 20 mount -T "$T/fstab2" "$MNT" 2>&1)
	fi
	echo "\$form mount: \$? \$out"
	awk -v m="$MNT" '\$5 == m { print \$6, \$(NF-2), \$NF }' /proc/self/mountinfo | sed "s/^/\$form: /"
	echo "\$form read: \$(setpriv --reuid=pfs_pa --regid=\$(id -g pfs_pa) --init-groups head -n1 "$MNT/INB0000003.txt")"
	out=\$(umount "$MNT" 2>&1)
	echo "\$form umount: \$? \$out"
done
EOS
got=$(unshare -m --propagation private bash "$T/ns.sh" 2>&1)
same fuse_protocolfs_type_forms "$got" "cmdline mount: 0 
cmdline: ro,nosuid,nodev,noexec,relatime fuse.protocolfs ro,user_id=0,group_id=0,allow_other
cmdline read: voornaam: Şükrü
cmdline umount: 0 
fstab mount: 0 
fstab: ro,nosuid,nodev,noexec,relatime fuse.protocolfs ro,user_id=0,group_id=0,allow_other
fstab read: voornaam: Şükrü
fstab umount: 0 "
left=""
for p in $(pgrep -f "^protocolfs $T/city.ini "); do gone $p || left+=" $p"; done
same fuse_protocolfs_no_daemon_left "$left" ""

# ---- a protocol that ended yesterday (or starts later): refused with its date
END=$(days_from_today -1)
sed -e "s/^start = .*/start = $(days_from_today -400)/" -e "s/^end = .*/end = $END/" "$PROTOCOL" >"$T/ended.ini"
sed -e "s/^start = .*/start = $(days_from_today 2)/" -e "s/^end = .*/end = $(days_from_today 100)/" "$PROTOCOL" >"$T/later.ini"
sed "s/;$(days_from_today -10)\r\$/;$(days_from_today -100)\r/" "$T/export.csv" >"$T/old.csv"
sed "s/;$(days_from_today -10)\r\$/;$(days_from_today 3)\r/" "$T/export.csv" >"$T/new.csv"
"$PFS" seal --protocol "$T/ended.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
	--serial 1 "$T/old.csv" "$T/ended.pfs" >/dev/null 2>"$T/seal.err" || fail seal_ended "$(cat "$T/seal.err")"
"$PFS" seal --protocol "$T/later.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
	--serial 1 "$T/new.csv" "$T/later.pfs" >/dev/null 2>"$T/seal.err" || fail seal_later "$(cat "$T/seal.err")"
for which in ended later; do
	mkdir -p "$T/state-$which"
	sed -e "s/^path = .*/path = $which.pfs/" -e "s/^state_dir = .*/state_dir = state-$which/" "$T/city.ini" >"$T/city-$which.ini"
	if [ $which = ended ]; then
		want="protocolfs: mount: protocol AGII-MECHELEN-AMIF507 ended on $END (Europe/Brussels): nothing may be served"
	else
		want="protocolfs: mount: protocol AGII-MECHELEN-AMIF507 starts on $(days_from_today 2) (Europe/Brussels): nothing may be served yet"
	fi
	for mode in fg bg; do
		f=""
		[ $mode = fg ] && f=-f
		out=$(timeout 20 "$PFS" mount "$T/city-$which.ini" "$MNT" -o allow_other $f 2>&1)
		rc=$?
		[ $rc != 0 ] && [ "$out" == "$want" ] && pass "${which}_${mode}_refused" ||
			fail "${which}_${mode}_refused" "exit $rc, output '$out', want non-zero and '$want'"
		is_mounted && { fail "${which}_${mode}_not_mounted" "$(mnt_line)"; fusermount3 -u -z "$MNT"; } ||
			pass "${which}_${mode}_not_mounted"
	done
done

same no_protocolfs_mounts_left "$(grep -c " $T/" /proc/self/mountinfo)" 0
exit $FAILED
