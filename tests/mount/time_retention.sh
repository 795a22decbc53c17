#!/bin/bash
# time_retention.sh — retention deadlines (Art. 2) on a mounted daemon whose clock
# is moved with libfaketime. Window 2024-01-01..2030-12-31 (Europe/Brussels),
# retention 5y: a record shared on 29 Feb 2024 goes at the start of 28 Feb 2029
# (not 1 March), one shared on 1 March 2024 at the start of 1 March 2029, one
# shared in 2026 at the protocol end; each at its instant to the second, with its
# xattrs and one "expire" line per deadline instant. Daylight-saving days: a
# deadline on 28 March 2027 (clocks go forward that night) falls at 23:00 UTC the
# day before, one on 31 October 2027 (clocks go back) at 22:00 UTC.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
ft_init America/New_York
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
make_protocol "$T/p1.ini" 2024-01-01 2030-12-31 TEST-RETENTION-2024
write_csv "$T/r1.csv" R-LEAP:2024-02-29 R-MARCH:2024-03-01 R-LATE:2026-06-15
seal_csv "$T/p1.ini" "$T/r1.csv" "$T/r1.pfs" 1 || {
	fail setup "seal r1 failed"
	exit 1
}
make_protocol "$T/p2.ini" 2022-01-01 2030-12-31 TEST-RETENTION-DST
write_csv "$T/r2.csv" D-SPRING:2022-03-28 D-AUTUMN:2022-10-31 D-OTHER:2022-06-01
seal_csv "$T/p2.ini" "$T/r2.csv" "$T/r2.pfs" 1 || {
	fail setup "seal r2 failed"
	exit 1
}
gone() { [ "$(as pfs_tb stat -c %n "$MNT/$1.txt" 2>&1)" = "stat: cannot statx '$MNT/$1.txt': No such file or directory" ]; }
nexpire() { audit_events "$1" expire | wc -l; }

# ---- 29 February + 5 years = 28 February
cfg=$(make_config leap r1.pfs)
ft_set_bxl "2029-02-27 12:00:00"
ft_mount_start "$cfg" || exit 1
same leap_xattr_deadline "$(xattr pfs_tb deadline R-LEAP.txt)" "2029-02-28"
same leap_xattr_reason "$(xattr pfs_tb reason R-LEAP.txt)" "retention"
same march_xattr_deadline "$(xattr pfs_tb deadline R-MARCH.txt)" "2029-03-01"
same march_xattr_reason "$(xattr pfs_tb reason R-MARCH.txt)" "retention"
same late_xattr_deadline "$(xattr pfs_pm deadline R-LATE.txt)" "2031-01-01"
same late_xattr_reason "$(xattr pfs_pm reason R-LATE.txt)" "protocol end"
same leap_readme_next "$(as pfs_tb grep 'next date' "$MNT/LEESMIJ-README")" "Volgende datum waarop dossiers verdwijnen / next date records disappear: 2029-02-28"

ft_set_bxl "2029-02-27 23:59:59" # 22:59:59 UTC
same leap_last_second_both "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-LEAP.txt R-MARCH.txt "
ft_set_bxl "2029-02-28 00:00:01"
same leap_gone_at_28_feb "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-MARCH.txt "
gone R-LEAP && pass leap_lookup_enoent || fail leap_lookup_enoent "$(as pfs_tb stat -c %n "$MNT/R-LEAP.txt" 2>&1)"
same leap_other_profile_gone "$(as pfs_pa cat "$MNT/R-LEAP.txt" 2>&1)" "cat: $MNT/R-LEAP.txt: No such file or directory"
wait_for 3 count_ge 1 nexpire "$T/leap.log"
same leap_expire_line "$(audit_events "$T/leap.log" expire)" "||R-LEAP|1 record no longer shown from 2029-02-27T23:00:00Z (retention)"
same leap_readme_next_after "$(as pfs_tb grep 'next date' "$MNT/LEESMIJ-README")" "Volgende datum waarop dossiers verdwijnen / next date records disappear: 2029-03-01"

ft_set_bxl "2029-02-28 23:59:59"
same march_last_second "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-MARCH.txt "
ft_set_bxl "2029-03-01 00:00:01"
same march_gone_at_1_march "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt "
wait_for 3 count_ge 2 nexpire "$T/leap.log"
same march_expire_line "$(audit_events "$T/leap.log" expire | sed -n 2p)" "||R-MARCH|1 record no longer shown from 2029-02-28T23:00:00Z (retention)"

ft_set_bxl "2030-12-31 23:59:59"
same late_last_second "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt "
ft_set_bxl "2031-01-01 00:00:01"
same late_gone_at_end "$(listing pfs_tb)" "LEESMIJ-README "
wait_for 3 count_ge 3 nexpire "$T/leap.log"
same late_expire_line "$(audit_events "$T/leap.log" expire | sed -n 3p)" "||R-LATE|1 record no longer shown from 2030-12-31T23:00:00Z (protocol end)"
sleep 1.1
same leap_three_expire_lines "$(nexpire "$T/leap.log")" 3
ft_mount_stop && pass leap_clean_unmount || fail leap_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- a jump over two deadline instants (a suspended machine): both records go,
# and each deadline instant has its own "expire" line.
cfg=$(make_config jump r1.pfs)
ft_set_bxl "2029-02-27 23:59:58"
ft_mount_start "$cfg" || exit 1
same jump_before "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt R-LEAP.txt R-MARCH.txt "
ft_set_bxl "2029-03-01 00:00:01"
same jump_both_gone "$(listing pfs_tb)" "LEESMIJ-README R-LATE.txt "
wait_for 3 count_ge 1 nexpire "$T/jump.log"
sleep 1.1
same jump_expire_per_instant "$(audit_events "$T/jump.log" expire)" "||R-LEAP|1 record no longer shown from 2029-02-27T23:00:00Z (retention)
||R-MARCH|1 record no longer shown from 2029-02-28T23:00:00Z (retention)"
ft_mount_stop && pass jump_clean_unmount || fail jump_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"

# ---- daylight-saving days (the daemon in Tokyo: its own zone changes nothing)
DTZ=Asia/Tokyo
cfg=$(make_config dst r2.pfs)
ft_set "2027-03-27 12:00:00"
ft_mount_start "$cfg" || exit 1
same spring_xattr_deadline "$(xattr pfs_tb deadline D-SPRING.txt)" "2027-03-28"
same autumn_xattr_deadline "$(xattr pfs_tb deadline D-AUTUMN.txt)" "2027-10-31"
ft_set "2027-03-27 22:59:59" # 23:59:59 CET, 1 s before the start of 28 March
same spring_one_second_before "$(listing pfs_tb)" "D-AUTUMN.txt D-OTHER.txt D-SPRING.txt LEESMIJ-README "
ft_set "2027-03-27 23:00:01"
same spring_one_second_after "$(listing pfs_tb)" "D-AUTUMN.txt D-OTHER.txt LEESMIJ-README "
gone D-SPRING && pass spring_lookup_enoent || fail spring_lookup_enoent "still there"
wait_for 3 count_ge 1 nexpire "$T/dst.log"
same spring_expire_line "$(audit_events "$T/dst.log" expire)" "||D-SPRING|1 record no longer shown from 2027-03-27T23:00:00Z (retention)"
ft_set "2027-05-31 21:59:59" # D-OTHER: the start of 1 June 2027 is 22:00 UTC (CEST)
same summer_one_second_before "$(listing pfs_tb)" "D-AUTUMN.txt D-OTHER.txt LEESMIJ-README "
ft_set "2027-05-31 22:00:01"
same summer_one_second_after "$(listing pfs_tb)" "D-AUTUMN.txt LEESMIJ-README "
ft_set "2027-10-30 21:59:59" # 23:59:59 CEST, 1 s before the start of 31 October
same autumn_one_second_before "$(listing pfs_tb)" "D-AUTUMN.txt LEESMIJ-README "
ft_set "2027-10-30 22:00:01"
same autumn_one_second_after "$(listing pfs_tb)" "LEESMIJ-README "
wait_for 3 count_ge 3 nexpire "$T/dst.log"
same dst_expire_lines "$(audit_events "$T/dst.log" expire)" "||D-SPRING|1 record no longer shown from 2027-03-27T23:00:00Z (retention)
||D-OTHER|1 record no longer shown from 2027-05-31T22:00:00Z (retention)
||D-AUTUMN|1 record no longer shown from 2027-10-30T22:00:00Z (retention)"
ft_mount_stop && pass dst_clean_unmount || fail dst_clean_unmount "exit $DAEMON_RC: $(cat "$DAEMON_ERR")"
exit $FAILED
