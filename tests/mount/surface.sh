#!/bin/bash
# surface.sh — the mount's surface as the kernel and every syscall see it: mount
# flags, the read-only errno table, per-profile directory views, the information
# file, extended attributes, stat against read bytes, and descriptor hygiene.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$(cd "$(dirname "$0")" && pwd)/py2"
# the system interpreter: other users cannot run root's pyenv shims
PY3=/usr/bin/python3
fixture_users
fixture_dataset
fixture_config

# The mountinfo line of $MNT: "OPTIONS - FSTYPE SOURCE SUPEROPTIONS".
mnt_line() { awk -v m="$MNT" '$5 == m { for (i = 6; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : "\n") }' /proc/self/mountinfo; }
# mount_flags_ok NAME — per-mount options hold ro,nosuid,nodev,noexec; fstype
# fuse.protocolfs; super options hold allow_other and not default_permissions.
mount_flags_ok() {
	local line opts fstype super want missing=""
	line=$(mnt_line)
	opts=${line%% *}
	fstype=$(echo "${line#* - }" | awk '{print $1}')
	super=$(echo "${line#* - }" | awk '{print $3}')
	for want in ro nosuid nodev noexec; do
		[[ ",$opts," == *",$want,"* ]] || missing+=" $want"
	done
	[[ ",$super," == *",allow_other,"* ]] || missing+=" allow_other(super)"
	[[ ",$super,$opts," == *",default_permissions,"* ]] && missing+=" (has default_permissions)"
	[[ ",$opts," == *",rw,"* || ",$super," == *",rw,"* ]] && missing+=" (has rw)"
	[ "$fstype" = fuse.protocolfs ] || missing+=" fstype=$fstype"
	if [ -z "$missing" ]; then pass "$1"; else fail "$1" "mountinfo '$line' lacks/has:$missing"; fi
}

# ---- 1. mount contract, also when the caller asks for rw,exec,suid,dev
mount_start allow_other,rw,exec,suid,dev || exit 1
mount_flags_ok mountinfo_weakening_options_ignored
mount_stop || true
mount_start || exit 1
mount_flags_ok mountinfo_flags
same mountinfo_exact "$(mnt_line)" "ro,nosuid,nodev,noexec,relatime - fuse.protocolfs protocolfs ro,user_id=0,group_id=0,allow_other"

# ---- 2. read-only errno table, as a profile user and as root (the kernel answers
# for an ro mount; the daemon answers EROFS itself too, see fs.c)
WANT_TABLE="open_wronly EROFS
open_rdwr EROFS
open_rdonly_trunc EROFS
open_creat_excl EROFS
mkdir EROFS
rmdir EROFS
unlink EROFS
rename EROFS
link EROFS
symlink EROFS
chmod EROFS
chown EROFS
truncate EROFS
utime EROFS
mknod EROFS
mkfifo EROFS
setxattr EROFS
removexattr EROFS
posix_fallocate EBADF"
before_tb=$(as pfs_tb $PY3 "$PY/snapshot.py" "$MNT")
before_root=$($PY3 "$PY/snapshot.py" "$MNT")
for who in pfs_tb:INB0000001.txt pfs_tb:LEESMIJ-README root:LEESMIJ-README pfs_pa:INB0000003.txt; do
	u=${who%%:*} f=${who#*:}
	got=$(as "$u" $PY3 "$PY/errtable.py" "$MNT" "$MNT/$f")
	if [ "$got" == "$WANT_TABLE" ]; then
		pass "errno_table_${u}_$f"
	else
		fail "errno_table_${u}_$f" "got: $(echo "$got" | paste -sd';')"
	fi
done
same nothing_changed_tb "$(as pfs_tb $PY3 "$PY/snapshot.py" "$MNT")" "$before_tb"
same nothing_changed_root "$($PY3 "$PY/snapshot.py" "$MNT")" "$before_root"
same tb_snapshot_names "$(echo "$before_tb" | awk '{print $1}' | paste -sd' ')" "INB0000001.txt INB0000002.txt INB0000003.txt LEESMIJ-README"
same no_leftover_names "$(ls -A "$MNT" | paste -sd' ')" "LEESMIJ-README"

# ---- 3. directory view per profile
probe() { as "$1" $PY3 "$PY/probe.py" "${@:2}"; }
ALL="INB0000001.txt,INB0000002.txt,INB0000003.txt,LEESMIJ-README"
same listdir_tb "$(probe pfs_tb listdir "$MNT")" "OK $ALL"
same listdir_pm "$(probe pfs_pm listdir "$MNT")" "OK $ALL"
same listdir_pa "$(probe pfs_pa listdir "$MNT")" "OK $ALL"
same listdir_root "$(probe root listdir "$MNT")" "OK LEESMIJ-README"
same listdir_no "$(probe pfs_no listdir "$MNT")" "EACCES"
for u in pfs_tb pfs_pm pfs_pa root; do
	got=""
	for n in INB0000009.txt INB0000001 inb0000001.txt INB0000001.TXT INB0000001.txt.txt .txt nothing \
		" INB0000001.txt" "INB0000001.txt "; do
		for op in stat lstat open; do
			r=$(probe "$u" "$op" "$MNT/$n")
			[ "$r" = ENOENT ] || got+=" $op('$n')=$r"
		done
	done
	# below a file: ENOTDIR where the file is visible, ENOENT where it is not
	want=ENOTDIR
	[ "$u" = root ] && want=ENOENT
	r=$(probe "$u" stat "$MNT/INB0000001.txt/x")
	[ "$r" = $want ] || got+=" stat(INB0000001.txt/x)=$r"
	if [ -z "$got" ]; then pass "nonexistent_enoent_$u"; else fail "nonexistent_enoent_$u" "$got"; fi
done
for op in stat lstat open; do
	same "root_hidden_${op}_enoent" "$(probe root $op "$MNT/INB0000001.txt")" "ENOENT"
	same "no_profile_${op}_eacces" "$(probe pfs_no $op "$MNT/INB0000001.txt")" "EACCES"
	same "no_profile_info_${op}_eacces" "$(probe pfs_no $op "$MNT/LEESMIJ-README")" "EACCES"
done
bad=""
n=0
for u in pfs_tb pfs_pm pfs_pa; do
	for f in INB0000001.txt INB0000002.txt INB0000003.txt; do
		r=$(probe "$u" stat "$MNT/$f")
		l=$(probe "$u" lstat "$MNT/$f")
		n=$((n + 1))
		[ "$r" = "$l" ] && [[ "$r" == "OK 100444 "* ]] || bad+=" $u $f: stat '$r' lstat '$l';"
	done
done
same stat_lstat_visible_files "$n:$bad" "9:"

# ---- 4. the information file (here: the partner's)
START=$(days_from_today -30)
END=$(days_from_today 365)
NEXT=$(date -u -d "$END + 1 day" +%Y-%m-%d)
WANT_INFO="protocolfs — AGII-MECHELEN-AMIF507

Uw functieprofiel / your function profile: partner
  Partnerorganisaties
Velden die u ziet / fields you see: voornaam, contacttaal, niveau Nederlands

Protocol: AGII-MECHELEN-AMIF507
  verstrekker / issuer:   Agentschap Integratie en Inburgering
  ontvanger / recipient:  stad Mechelen
  looptijd / in force:    $START tot en met / to $END (Europe/Brussels)

Dossiers die u ziet / records you see: 3
Volgende datum waarop dossiers verdwijnen / next date records disappear: $NEXT

Elk geopend bestand wordt gelogd (art. 6). Every file you open is logged (Art. 6)."
same info_partner_exact "$(as pfs_pa cat "$MNT/LEESMIJ-README")" "$WANT_INFO"
same info_partner_ends_with_newline "$(as pfs_pa tail -c 1 "$MNT/LEESMIJ-README" | od -An -c | tr -d ' ')" '\n'
PERSONAL='Amina|Haddad|Bruul|470 12 34 56|amina\.haddad|Oleksandra|Kovalenko|Hoogstraat|471 00 00 01|Şükrü|Yılmaz|Nekkerspoel|499 99 99 99|sukru@|Arabisch|Oekraïens|Turks|bezig|niet gestart|geslaagd|INB000000'
for u in pfs_tb pfs_pm pfs_pa root; do
	hits=$(as "$u" cat "$MNT/LEESMIJ-README" | grep -oE "$PERSONAL" | paste -sd,)
	same "info_no_personal_data_$u" "$hits" ""
done

# ---- 5. extended attributes
WANT_X="# file: $MNT/INB0000001.txt
user.protocolfs.deadline=\"$NEXT\"
user.protocolfs.reason=\"protocol end\""
same xattr_tb "$(cd / && as pfs_tb getfattr --absolute-names -d "$MNT/INB0000001.txt" 2>&1)" "$WANT_X"
same xattr_pa "$(cd / && as pfs_pa getfattr --absolute-names -d "$MNT/INB0000001.txt" 2>&1)" "$WANT_X"
same xattr_pm_all_match "$(cd / && as pfs_pm getfattr --absolute-names -d -m - "$MNT/INB0000001.txt" 2>&1)" "$WANT_X"
same xattr_list_tb "$(probe pfs_tb listxattr "$MNT/INB0000002.txt")" "OK user.protocolfs.deadline,user.protocolfs.reason"
same xattr_get_deadline_pa "$(probe pfs_pa getxattr "$MNT/INB0000003.txt" user.protocolfs.deadline)" "OK $NEXT"
same xattr_get_reason_pm "$(probe pfs_pm getxattr "$MNT/INB0000003.txt" user.protocolfs.reason)" "OK protocol end"
for u in pfs_tb pfs_pa root; do
	same "xattr_list_info_empty_$u" "$(probe $u listxattr "$MNT/LEESMIJ-README")" "OK "
	same "xattr_list_root_empty_$u" "$(probe $u listxattr "$MNT")" "OK "
	same "xattr_getfattr_d_info_empty_$u" "$(as $u getfattr --absolute-names -d -m - "$MNT/LEESMIJ-README" 2>&1)" ""
done
same xattr_selinux_enodata "$(as pfs_tb getfattr --absolute-names -n security.selinux "$MNT/INB0000001.txt" 2>&1)" \
	"$MNT/INB0000001.txt: security.selinux: No such attribute"
same xattr_selinux_info_enodata "$(probe root getxattr "$MNT/LEESMIJ-README" security.selinux)" "ENODATA"
same xattr_deadline_on_info_enodata "$(probe pfs_pa getxattr "$MNT/LEESMIJ-README" user.protocolfs.deadline)" "ENODATA"
same xattr_unknown_user_attr_enodata "$(probe pfs_tb getxattr "$MNT/INB0000001.txt" user.protocolfs.other)" "ENODATA"
same xattr_root_hidden_enoent "$(probe root getxattr "$MNT/INB0000001.txt" user.protocolfs.deadline)" "ENOENT"
same xattr_no_profile_eacces "$(probe pfs_no getxattr "$MNT/INB0000001.txt" user.protocolfs.deadline)" "EACCES"

# ---- 6. stat against the bytes read, mtime = issue time, mode -r--r--r--
ISSUED=$("$PFS" inspect "$T/dataset.pfs" | sed -n 's/^issued: *//p')
ISSUED_S=$(date -u -d "$ISSUED" +%s)
for u in pfs_tb pfs_pm pfs_pa root; do
	n=$(as $u ls "$MNT" | wc -l)
	same "stat_matches_read_$u" "$(as $u $PY3 "$PY/sizes.py" "$MNT" "$ISSUED_S")" "checked $n"
done
same stat_root_dir_mode "$(stat -c '%A %U %G %Y' "$MNT")" "dr-xr-xr-x root root $ISSUED_S"
# the same file, different views, different sizes (never one profile's size for another)
sz_tb=$(as pfs_tb stat -c %s "$MNT/INB0000001.txt")
sz_pa=$(as pfs_pa stat -c %s "$MNT/INB0000001.txt")
same size_per_view "$sz_tb $sz_pa" "$(as pfs_tb cat "$MNT/INB0000001.txt" | wc -c) $(as pfs_pa cat "$MNT/INB0000001.txt" | wc -c)"

# ---- 7. descriptor hygiene: no fd leaks over 1000 open+read+close
fds_before=$(ls /proc/$DAEMON_PID/fd | wc -l)
out=$(as pfs_tb $PY3 "$PY/fdloop.py" 1000 "$MNT/INB0000001.txt" "$MNT/INB0000002.txt" "$MNT/LEESMIJ-README")
same fdloop_ran "$out" "done 1000"
fds_after=$(ls /proc/$DAEMON_PID/fd | wc -l)
same fd_count_stable "$fds_after" "$fds_before"
ls -l /proc/$DAEMON_PID/fd >"$T/fds"
same fd_dev_fuse_once "$(grep -c ' -> /dev/fuse$' "$T/fds")" 1
same fd_audit_log_once "$(grep -c " -> $T/audit.log\$" "$T/fds")" 1
# every descriptor the daemon opened itself (the device, its state and log files)
# is close-on-exec; inherited ones (stdio, the test's lock) are not its doing
bad=""
for f in /proc/$DAEMON_PID/fd/*; do
	n=${f##*/} tgt=$(readlink "$f")
	[ "$tgt" = /dev/fuse ] || { [[ "$tgt" == "$T/"* ]] && [ "$tgt" != "$DAEMON_ERR" ]; } || continue
	fl=$(awk '/^flags:/ { print $2 }' /proc/$DAEMON_PID/fdinfo/$n)
	(((8#$fl & 8#2000000) != 0)) || bad+=" $n->$tgt($fl)"
done
same fd_own_cloexec "$bad" ""

mount_stop && pass clean_unmount
same no_leftover_mounts "$(grep -c " $MNT " /proc/self/mountinfo)" 0
same mountpoint_underneath "$(stat -c '%U %a' "$MNT") $(ls -A "$MNT" | wc -l)" "root 755 0"
exit $FAILED
