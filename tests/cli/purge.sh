#!/bin/bash
# purge.sh — `protocolfs purge CONFIG` (Art. 2: nothing kept past its deadline)
# and `[dataset] purge = auto`, with the clock moved by libfaketime. Window
# 2040-01-01..2045-12-31, retention 5y, five records: at 1 March 2045 two are past
# their deadline. purge cuts exactly those out of the file at rest; the file still
# verifies under the issuer's signature (inspect: "5 (3 present, 2 purged)"), is
# logged, mounts and serves the other three. A purge while mounted is reloaded
# by the daemon; an un-purged copy put back is refused. With purge = auto the
# daemon purges after each expiry and logs it. Every audit log verifies.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/../mount/py4/timelib.bash"
ft_init UTC
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
make_protocol "$T/p.ini" 2040-01-01 2045-12-31 TEST-PURGE
write_csv "$T/x.csv" P-JAN:2040-01-15 P-LEAP:2040-02-29 P-JUNE:2040-06-01 P-2041:2041-03-01 P-2042:2042-01-01
seal_csv "$T/p.ini" "$T/x.csv" "$T/orig.pfs" 1 || {
	fail setup "seal failed"
	exit 1
}
cp "$T/orig.pfs" "$T/dataset.pfs"
cfg=$(make_config pm)
LOG=$T/pm.log
records() { "$PFS" inspect --issuer "$T/agii.pub" "$1" | grep -E '^(records|deadlines|signature):'; }

same before_inspect "$(records "$T/dataset.pfs")" "records:    5 (5 present, 0 purged)
deadlines:  2045-01-15 (earliest) to 2047-01-01 (latest)
signature:  verified"

# ---- at 1 March 2045 (Brussels) two deadlines have passed
ft_set_bxl "2045-03-01 12:00:00"
same check_before "$(ft_env "$PFS" check "$cfg" | grep -E '^(visible|next):')" "visible:    3 records now (2 expired, 0 purged)
next:       2045-06-01 (records disappear at the start of this day)"
same inspect_now_faked "$(ft_env "$PFS" inspect --issuer "$T/agii.pub" "$T/dataset.pfs" | grep '^now:')" \
	"now:        3 visible, 2 expired, next disappear at the start of 2045-06-01"
expect purge_runs 0 "" ft_env "$PFS" purge "$cfg"
same purge_output "$(cat "$T/.out")" "purged 2 expired records from $T/dataset.pfs (3 remain)"
same purge_inspect "$(records "$T/dataset.pfs")" "records:    5 (3 present, 2 purged)
deadlines:  2045-06-01 (earliest) to 2047-01-01 (latest)
signature:  verified"
expect purge_still_verifies 0 "" "$PFS" inspect --issuer "$T/agii.pub" "$T/dataset.pfs"
same purge_header_kept "$("$PFS" inspect --issuer "$T/agii.pub" "$T/dataset.pfs" | grep -E '^(serial|protocol):')" "protocol:   TEST-PURGE
serial:     1"
same purge_smaller "$([ "$(stat -c %s "$T/dataset.pfs")" -lt "$(stat -c %s "$T/orig.pfs")" ] && echo smaller)" smaller
same purge_file_mode "$(stat -c %a "$T/dataset.pfs")" "$(stat -c %a "$T/orig.pfs")"
same purge_audit_line "$(audit_events "$LOG" purge)" "allowed|||2 expired records cut from the dataset at rest (protocolfs purge)"
# nothing more to purge: no rewrite, no line
cp -p "$T/dataset.pfs" "$T/after1.pfs"
expect purge_again_runs 0 "" ft_env "$PFS" purge "$cfg"
same purge_again_output "$(cat "$T/.out")" "purged 0 expired records from $T/dataset.pfs (3 remain)"
cmp -s "$T/dataset.pfs" "$T/after1.pfs" && pass purge_again_unchanged || fail purge_again_unchanged "file rewritten"
same purge_again_no_line "$(n_events "$LOG" purge)" 1
same check_after "$(ft_env "$PFS" check "$cfg" | grep -E '^(visible|next):')" "visible:    3 records now (0 expired, 2 purged)
next:       2045-06-01 (records disappear at the start of this day)"
# another issuer's key: purge refuses to touch the file
sed "s|^issuer_key = .*|issuer_key = other.pub|" "$cfg" >"$T/pm-other.ini"
"$PFS" keygen issuer "$T/other" >/dev/null
cp -p "$T/dataset.pfs" "$T/before-other.pfs"
ft_env "$PFS" purge "$T/pm-other.ini" >"$T/o.out" 2>"$T/o.err"
same purge_wrong_key_refused "$?" 1
cmp -s "$T/dataset.pfs" "$T/before-other.pfs" && pass purge_wrong_key_untouched || fail purge_wrong_key_untouched "file changed"

# ---- the purged file mounts and serves the remaining three
ft_mount_start "$cfg" || exit 1
same mount_after_purge "$(listing pfs_tb)" "LEESMIJ-README P-2041.txt P-2042.txt P-JUNE.txt "
same mount_after_purge_read "$(as pfs_pa head -n1 "$MNT/P-JUNE.txt")" "voornaam: Voornaam-P-JUNE"
same mount_after_purge_gone "$(as pfs_tb cat "$MNT/P-JAN.txt" 2>&1)" "cat: $MNT/P-JAN.txt: No such file or directory"
same mount_line "$(audit_events "$LOG" mount | sed 's/^.*protocol /protocol /')" "protocol TEST-PURGE, serial 1, 3 records"
# purge while mounted, after the next deadline: the daemon reloads and logs it
ft_set_bxl "2045-06-01 00:00:01"
wait_for 3 count_ge 1 n_events "$LOG" expire
same mounted_purge_output "$(ft_env "$PFS" purge "$cfg" 2>&1)" "the running daemon reloads the dataset and logs the purge
purged 1 expired record from $T/dataset.pfs (2 remain)"
wait_for 3 count_ge 2 n_events "$LOG" purge
same mounted_purge_line "$(audit_events "$LOG" purge | sed -n 2p)" "allowed|||1 expired record cut from the dataset at rest (serial 1): 2 remain"
same mounted_purge_listing "$(listing pfs_tb)" "LEESMIJ-README P-2041.txt P-2042.txt "
same mounted_purge_inspect "$(records "$T/dataset.pfs" | head -n1)" "records:    5 (2 present, 3 purged)"
# the un-purged original (same serial, same uuid) put back: refused, not a purge
sleep 1.1
replace "$T/orig.pfs" "$T/dataset.pfs"
wait_for 3 count_ge 1 n_events "$LOG" reload
sleep 1.1
same unpurge_refused "$(audit_events "$LOG" reload | cut -d'|' -f1,2)" "denied|dataset refused"
same unpurge_no_purge_line "$(n_events "$LOG" purge)" 2
ft_mount_stop && pass clean_unmount || fail clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
"$PFS" audit verify --key "$T/pm.audit.key" "$LOG" >"$T/v.out" 2>&1 && pass audit_verifies || fail audit_verifies "$(cat "$T/v.out")"

# ---- purge = auto: the daemon purges after each expiry
cp "$T/orig.pfs" "$T/auto.pfs"
cfga=$(make_config auto auto.pfs "purge = auto")
n_cuts() { audit_events "$T/auto.log" purge | grep -cE '^allowed\|\|\|1 expired record cut from the dataset at rest \(serial 1\): [0-9]+ remain$'; }
ft_set_bxl "2045-01-14 23:59:58"
ft_mount_start "$cfga" || exit 1
same auto_before "$(listing pfs_tb)" "LEESMIJ-README P-2041.txt P-2042.txt P-JAN.txt P-JUNE.txt P-LEAP.txt "
ft_set_bxl "2045-01-15 00:00:01"
wait_for 4 count_ge 1 n_events "$T/auto.log" purge
sleep 1.5 # the keeper reloads the rewritten file
same auto_purge_line "$(audit_events "$T/auto.log" purge | sed -n 1p)" "allowed|||1 expired record cut from the dataset at rest (serial 1): 4 remain"
same auto_file_purged "$(records "$T/auto.pfs")" "records:    5 (4 present, 1 purged)
deadlines:  2045-02-28 (earliest) to 2047-01-01 (latest)
signature:  verified"
same auto_listing "$(listing pfs_tb)" "LEESMIJ-README P-2041.txt P-2042.txt P-JUNE.txt P-LEAP.txt "
# the next deadline: 28 Feb 2045 (29 Feb 2040 + 5y)
ft_set_bxl "2045-02-28 00:00:01"
wait_for 4 count_ge 2 n_cuts
sleep 1.5
same auto_second_purge "$(records "$T/auto.pfs" | head -n1)" "records:    5 (3 present, 2 purged)"
same auto_second_listing "$(listing pfs_tb)" "LEESMIJ-README P-2041.txt P-2042.txt P-JUNE.txt "
same auto_still_serves "$(as pfs_pm head -n1 "$MNT/P-2041.txt")" "voornaam: Voornaam-P-2041"
ft_mount_stop && pass auto_clean_unmount || fail auto_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
expect auto_purged_file_verifies 0 "" "$PFS" inspect --issuer "$T/agii.pub" "$T/auto.pfs"
"$PFS" audit verify --key "$T/auto.audit.key" "$T/auto.log" >"$T/v.out" 2>&1 && pass auto_audit_verifies || fail auto_audit_verifies "$(cat "$T/v.out")"
[ "$FAILED" = 0 ] || audit_events "$T/auto.log" purge
exit $FAILED
