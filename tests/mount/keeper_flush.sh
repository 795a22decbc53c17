#!/bin/bash
# keeper_flush.sh — endings the keeper learns after the fact still flush at once
# (Art. 2, 8, 12). (1) A termination notice dated today (the normal "stop now"):
# it is in force when the keeper reads it, yet a descriptor and a mapping opened
# before it stop serving at once, one "expire" line is written and purge = auto
# runs. (2) After a reload, a mapping made before it is not served at a later
# deadline: the reload flushes every node of the old generation that was ever
# rendered, not only the persons who left.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
ft_init UTC
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
make_protocol "$T/p.ini" 2040-01-01 2045-12-31 TEST-KF
write_csv "$T/k.csv" K-ONE:2040-01-15 K-TWO:2040-02-01
seal_csv "$T/p.ini" "$T/k.csv" "$T/k.pfs" 1 || {
	fail setup "seal failed"
	exit 1
}
mkdir -m 777 "$T/sync"
hold() { # FILE: hold it open and mapped as pfs_tb until $T/sync/go
	rm -f "$T/sync/ready" "$T/sync/go"
	as pfs_tb $PY3 "$PY4/hold.py" "$MNT/$1" "$T/sync/ready" "$T/sync/go" >"$T/hold.out" 2>&1 &
	HOLD=$!
	wait_for 10 test -e "$T/sync/ready" || fail hold_ready "$(cat "$T/hold.out")"
}
release() { touch "$T/sync/go" && wait "$HOLD"; }
not_served() { # NAME: the held descriptor and mapping serve nothing of the old bytes
	same "$1_pread" "$(sed -n 1,2p "$T/hold.out" | tr '\n' ' ')" "pread ESTALE pread ESTALE "
	case "$(sed -n 3p "$T/hold.out")" in
	"mmap SIGBUS" | "mmap zeros" | "mmap EIO" | "mmap ESTALE") pass "$1_mmap" ;;
	*) fail "$1_mmap" "$(sed -n 3p "$T/hold.out") (want SIGBUS, zeros or an error, never the old bytes)" ;;
	esac
	case "$(sed -n 4p "$T/hold.out")" in
	"sendfile 0" | "sendfile ESTALE" | "sendfile ENOENT" | "sendfile EIO") pass "$1_sendfile" ;;
	*) fail "$1_sendfile" "$(sed -n 4p "$T/hold.out")" ;;
	esac
}

# ---- (1) a notice dated today, with purge = auto
cp "$T/k.pfs" "$T/k1.pfs"
cfg=$(make_config kf k1.pfs "purge = auto")
LOG=$T/kf.log
ND=$T/kf.state/notices
mkdir -p "$ND"
"$PFS" terminate --issuer-key "$T/agii.key" --protocol TEST-KF --at 2040-06-01 "$T/today.notice" >/dev/null || fail setup "terminate"
ft_set_bxl "2040-06-01 12:00:00"
ft_mount_start "$cfg" || exit 1
same today_before "$(listing pfs_tb)" "K-ONE.txt K-TWO.txt LEESMIJ-README "
hold K-ONE.txt
cp "$T/today.notice" "$ND/.t.tmp" && mv "$ND/.t.tmp" "$ND/today.notice"
wait_for 3 count_ge 1 n_events "$LOG" expire
same today_notice_line "$(audit_events "$LOG" notice)" "allowed|||termination notice today.notice: nothing is shown from 2040-05-31T22:00:00Z"
same today_expire_line "$(audit_events "$LOG" expire)" "|||2 records no longer shown from 2040-05-31T22:00:00Z (termination)"
same today_listing "$(listing pfs_tb)" "LEESMIJ-README "
release
not_served today_held
wait_for 5 count_ge 1 n_events "$LOG" purge
same today_purged "$(audit_events "$LOG" purge)" "allowed|||2 expired records cut from the dataset at rest (serial 1): 0 remain"
sleep 1.2
same today_one_expire_line "$(n_events "$LOG" expire)" 1
ft_mount_stop && pass today_clean_unmount || fail today_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- (2) a mapping made before a reload, at a later deadline
rm -rf "$T/kf.state" "$T/kf.log" "$T/kf.audit.key"
cp "$T/k.pfs" "$T/k2.pfs"
cfg=$(make_config kf k2.pfs)
ft_set_bxl "2040-06-01 12:00:00"
ft_mount_start "$cfg" || exit 1
dl=$(as pfs_tb getfattr --absolute-names --only-values -n user.protocolfs.deadline "$MNT/K-ONE.txt")
same reload_deadline_known "${#dl}" 10
hold K-ONE.txt
seal_csv "$T/p.ini" "$T/k.csv" "$T/k2.new" 2 && replace "$T/k2.new" "$T/k2.pfs" # seen within 1 s
wait_for 5 count_ge 1 n_events "$LOG" reload
same reload_line "$(audit_events "$LOG" reload)" "allowed|||serial 1 -> 2: 2 records, 0 no longer shown"
ft_set_bxl "$dl 00:00:01"
wait_for 3 count_ge 1 n_events "$LOG" expire
same reload_deadline_expire "$(audit_events "$LOG" expire | cut -d'|' -f3)" "K-ONE"
release
not_served reload_held_after_deadline
ft_mount_stop && pass reload_clean_unmount || fail reload_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
exit $FAILED
