#!/bin/bash
# time_terminate.sh — termination notices (Art. 8, 12) on a mounted daemon whose
# clock is moved with libfaketime. Placed in state_dir/notices/ while mounted, a
# notice for the protocol signed by the issuer takes effect at the start of its
# date (Brussels) without a restart: everything visible until then, nothing from
# then on, one "notice" allowed line and one "expire" line. Notices signed by
# another key, for another protocol, altered or not notices at all are refused
# ("notice" denied lines) and hide nothing. `check` prints every notice; a mount
# started after the date is refused. The dates lie in the 2040s so that `check`,
# which runs on the real clock, goes by the daemon's high-water mark of time.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
ft_init UTC
fixture_users
keys_make && "$PFS" keygen issuer "$T/other" >/dev/null || {
	fail setup "keygen failed"
	exit 1
}
make_protocol "$T/p.ini" 2040-01-01 2045-12-31 TEST-TERM
write_csv "$T/t.csv" T-ONE:2040-01-15 T-TWO:2040-02-01 T-THREE:2040-03-01
seal_csv "$T/p.ini" "$T/t.csv" "$T/t.pfs" 1 || {
	fail setup "seal failed"
	exit 1
}
cfg=$(make_config term t.pfs)
LOG=$T/term.log
ND=$T/term.state/notices
mkdir -p "$ND" "$T/n"
ALL="LEESMIJ-README T-ONE.txt T-THREE.txt T-TWO.txt "

# The notices: D = 2040-07-01 for the good one; the bad ones name earlier dates.
same terminate_writes "$("$PFS" terminate --issuer-key "$T/agii.key" --protocol TEST-TERM --at 2040-07-01 "$T/n/good.notice" 2>&1)" \
	"wrote $T/n/good.notice: protocol TEST-TERM ends at the start of 2040-07-01"
"$PFS" terminate --issuer-key "$T/other.key" --protocol TEST-TERM --at 2040-06-10 "$T/n/otherkey.notice" >/dev/null &&
	"$PFS" terminate --issuer-key "$T/agii.key" --protocol OTHER-PROTOCOL --at 2040-06-10 "$T/n/otherproto.notice" >/dev/null &&
	"$PFS" terminate --issuer-key "$T/agii.key" --protocol TEST-TERM --at 2040-06-11 "$T/n/altered.notice" >/dev/null || {
	fail setup "terminate failed"
	exit 1
}
# altered: the date moved one day earlier after signing (at_day is at byte 13, LE)
$PY3 - "$T/n/altered.notice" <<'EOF'
import base64, struct, sys
p = sys.argv[1]
head, b64 = open(p).read().split("\n")[:2]
blob = bytearray(base64.b64decode(b64))
day = struct.unpack_from("<i", blob, 13)[0]
struct.pack_into("<i", blob, 13, day - 1)
open(p, "w").write(head + "\n" + base64.b64encode(bytes(blob)).decode() + "\n")
EOF
printf 'protocolfs termination notice: none\nbm90IGEgbm90aWNl\n' >"$T/n/junk.notice"

# place FILE — into the notices folder as an operator would: a hidden temporary
# name first (skipped by the daemon), then renamed.
place() {
	cp "$T/n/$1" "$ND/.$1.tmp" && mv "$ND/.$1.tmp" "$ND/$1"
}
nnotice() { audit_events "$LOG" notice | wc -l; }

ft_set_bxl "2040-06-01 12:00:00"
ft_mount_start "$cfg" || exit 1
same before_all_visible "$(listing pfs_tb)" "$ALL"
place otherkey.notice
place otherproto.notice
place altered.notice
place junk.notice
wait_for 3 count_ge 4 nnotice
sleep 1.1
same refused_notice_lines "$(audit_events "$LOG" notice | sort)" "denied|invalid notice||termination notice altered.notice refused: $ND/altered.notice: the issuer's signature does not verify
denied|invalid notice||termination notice junk.notice refused: $ND/junk.notice: not a protocolfs termination notice
denied|invalid notice||termination notice otherkey.notice refused: $ND/otherkey.notice: not signed by the issuer's key
denied|invalid notice||termination notice otherproto.notice refused: $ND/otherproto.notice: the notice is for another protocol"
ft_set_bxl "2040-06-12 00:00:01" # after every date the refused notices name
same refused_hide_nothing "$(listing pfs_tb)" "$ALL"
same refused_deadline_unchanged "$(xattr pfs_tb deadline T-ONE.txt) $(xattr pfs_tb reason T-ONE.txt)" "2045-01-15 retention"

place good.notice
wait_for 3 count_ge 5 nnotice
same allowed_notice_line "$(audit_events "$LOG" notice | sed -n 5p)" "allowed|||termination notice good.notice: nothing is shown from 2040-06-30T22:00:00Z"
same noticed_still_visible "$(listing pfs_tb)" "$ALL"
same noticed_xattr_deadline "$(xattr pfs_tb deadline T-TWO.txt)" "2040-07-01"
same noticed_xattr_reason "$(xattr pfs_tb reason T-TWO.txt)" "termination"
same noticed_readme_next "$(as pfs_tb grep 'next date' "$MNT/LEESMIJ-README")" "Volgende datum waarop dossiers verdwijnen / next date records disappear: 2040-07-01"
same check_prints_notices "$("$PFS" check "$cfg" | grep -E '^(notice|window|visible|next):' | sort)" "next:       2040-07-01 (records disappear at the start of this day)
notice:     altered.notice: REFUSED: $ND/altered.notice: the issuer's signature does not verify
notice:     good.notice: the protocol ends at 2040-06-30T22:00:00Z
notice:     junk.notice: REFUSED: $ND/junk.notice: not a protocolfs termination notice
notice:     otherkey.notice: REFUSED: $ND/otherkey.notice: not signed by the issuer's key
notice:     otherproto.notice: REFUSED: $ND/otherproto.notice: the notice is for another protocol
visible:    3 records now (0 expired, 0 purged)
window:     2040-01-01 to 2045-12-31 inclusive (Europe/Brussels): in force"

ft_set_bxl "2040-06-30 23:59:58" # 21:59:58 UTC
same last_second_visible "$(listing pfs_tb)" "$ALL"
ft_set_bxl "2040-07-01 00:00:01"
t0=$(date +%s%N)
wait_for 3 count_ge 1 n_events "$LOG" expire
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -le 2000 ] && pass expire_within_2s || fail expire_within_2s "${ms} ms"
same terminated_empty "$(listing pfs_tb)" "LEESMIJ-README "
same terminated_lookup "$(as pfs_pm cat "$MNT/T-ONE.txt" 2>&1)" "cat: $MNT/T-ONE.txt: No such file or directory"
same terminated_expire_line "$(audit_events "$LOG" expire)" "|||3 records no longer shown from 2040-06-30T22:00:00Z (termination)"
sleep 1.2
same check_after_d "$("$PFS" check "$cfg" | grep -E '^(window|visible|next):')" "window:     2040-01-01 to 2045-12-31 inclusive (Europe/Brussels): terminated by notice
visible:    0 records now (3 expired, 0 purged)
next:       no record is due to disappear"
ft_mount_stop && pass clean_unmount || fail clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
same daemon_stderr_names_refusals "$(grep -c 'refused' "$DAEMON_ERR")" 4

# ---- a mount started after D is refused: with the clock past D and a fresh state
# folder holding only the notice, and with the clock set back before D (the mark)
cfg2=$(make_config fresh t.pfs)
mkdir -p "$T/fresh.state/notices"
cp "$T/n/good.notice" "$T/fresh.state/notices/"
ft_set_bxl "2040-07-02 12:00:00"
expect mount_after_d_refused 2 "protocolfs: mount: protocol TEST-TERM was terminated by notice from 2040-06-30T22:00:00Z" \
	ft_env "$PFS" mount "$cfg2" "$MNT" -f -o allow_other
ft_set_bxl "2040-06-20 12:00:00"
ft_env "$PFS" mount "$cfg" "$MNT" -f -o allow_other 2>"$T/m.err"
same mount_mark_after_d_refused "$? $(tail -n1 "$T/m.err")" "2 protocolfs: mount: protocol TEST-TERM was terminated by notice from 2040-06-30T22:00:00Z"
# (the accepted termination is recorded in state_dir/termination: the mount is
# refused from it before any notice is read, so only that one line)
same mount_mark_after_d_lines "$(wc -l <"$T/m.err") $(grep -c '^protocolfs: termination notice .* refused: ' "$T/m.err")" "1 0"
same refused_not_mounted "$(is_mounted && echo mounted)" ""

# ---- a notice already in place at mount time, before D: served until D
cfg3=$(make_config early t.pfs)
mkdir -p "$T/early.state/notices"
cp "$T/n/good.notice" "$T/early.state/notices/"
ft_set_bxl "2040-06-30 23:59:57"
ft_mount_start "$cfg3" || exit 1
same early_visible_before_d "$(listing pfs_tb)" "$ALL"
same early_notice_line "$(audit_events "$T/early.log" notice)" "allowed|||termination notice good.notice: nothing is shown from 2040-06-30T22:00:00Z"
ft_set_bxl "2040-07-01 00:00:01"
wait_for 3 count_ge 1 n_events "$T/early.log" expire
same early_empty_after_d "$(listing pfs_tb)" "LEESMIJ-README "
ft_mount_stop && pass early_clean_unmount || fail early_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
"$PFS" audit verify --key "$T/term.audit.key" "$LOG" >"$T/v.out" 2>&1 && pass audit_verifies || fail audit_verifies "$(cat "$T/v.out")"
exit $FAILED
