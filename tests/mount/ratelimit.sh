#!/bin/bash
# ratelimit.sh — rate limits and denial floods (Art. 6: misuse detected).
#   - max_opens_per_minute is exact per user: two users whose uids differ by 256
#     (one slot of the old 256-slot table, which reset on every collision) each
#     get exactly 3 of 7 opens, interleaved; one alert line each.
#   - max_opens_per_minute_profile is exact per profile, shared by its members.
#   - a changed limit applies at SIGHUP (counts in the window are kept).
#   - one refused `cat` of a name another user has cached is one lookup line
#     (the kernel looks it up twice).
#   - a denial flood by a user without a profile writes 20 lines in full and then
#     one "denials" line per minute with the count (the keeper's tick, and the
#     final one at unmount), names cut to 100 bytes; staff keep being served;
#     `audit anomalies` still counts every attempt.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/py4/timelib.bash"
PY="$(cd "$(dirname "$0")" && pwd)/py3"
fixture_users
# two users 256 uids apart, in their own profile
base=42000
while getent passwd $base >/dev/null || getent passwd $((base + 256)) >/dev/null; do base=$((base + 1)); done
for u in pfs_r1 pfs_r2; do userdel "$u" >/dev/null 2>&1; done
useradd -M -N -g nogroup -u $base -s /usr/sbin/nologin pfs_r1
useradd -M -N -g nogroup -u $((base + 256)) -s /usr/sbin/nologin pfs_r2
on_exit "userdel pfs_r1 >/dev/null 2>&1; userdel pfs_r2 >/dev/null 2>&1"
same uids_256_apart "$(($(id -u pfs_r2) - $(id -u pfs_r1)))" 256
fixture_dataset
cfg=$(make_config rl)
LOG=$T/rl.log
cat >>"$cfg" <<'EOC'

[profile:rl]
description = Rate-limit test
fields = first_name
users = pfs_r1, pfs_r2
EOC
set_limits() { # USER PROFILE: the [audit] limits (0: the key is left out)
	sed -i '/^max_opens_per_minute/d' "$cfg"
	[ "$1" = 0 ] || sed -i "s/^verify_key = .*/&\nmax_opens_per_minute = $1/" "$cfg"
	[ "$2" = 0 ] || sed -i "s/^verify_key = .*/&\nmax_opens_per_minute_profile = $2/" "$cfg"
}
F1=$MNT/INB0000001.txt
open_as() { as "$1" $PY3 "$PY/open1.py" "${@:2}" | sed 's/^ok [0-9]*$/ok/' | tr '\n' ' '; }
nalerts() { grep -c '"event":"alert"' "$LOG"; }
NR=0
reloaded() { # wait for the next allowed reload line
	wait_for 5 count_ge $((NR + 1)) n_events "$LOG" reload && NR=$((NR + 1))
}

set_limits 3 0
pfs_mount_start "$cfg" || exit 1

# ---- exact per user, interleaved
r1= r2=
for i in 1 2 3 4 5 6 7; do
	r1+="$(open_as pfs_r1 "$F1")"
	r2+="$(open_as pfs_r2 "$F1")"
done
same user_limit_r1 "$r1" "ok ok ok errno EACCES errno EACCES errno EACCES errno EACCES "
same user_limit_r2 "$r2" "ok ok ok errno EACCES errno EACCES errno EACCES errno EACCES "
same user_limit_one_alert_each "$(nalerts)" 2
same user_limit_other_user "$(open_as pfs_tb "$F1" "$F1" "$F1")" "ok ok ok "

# ---- exact per profile, after a reload that changes the limits
set_limits 0 4
kill -HUP "$DAEMON_PID"
reloaded && pass reload_limits_accepted || fail reload_limits_accepted "$(audit_events "$LOG" reload | tail -n1)"
same profile_limit_r1 "$(open_as pfs_r1 "$F1" "$F1" "$F1")" "ok ok ok "
same profile_limit_r2 "$(open_as pfs_r2 "$F1" "$F1" "$F1")" "ok errno EACCES errno EACCES "
same profile_limit_alert "$(audit_events "$LOG" alert | tail -n1 | cut -d'|' -f1,2)" "denied|profile over max_opens_per_minute_profile"
same profile_limit_own_count_per_profile "$(open_as pfs_pm "$F1" "$F1" "$F1" "$F1" "$F1")" "ok ok ok ok errno EACCES "

# ---- a lowered user limit applies at once: pfs_r1's 3 opens of the first part
# are still in the window
set_limits 2 0
kill -HUP "$DAEMON_PID"
reloaded && pass reload_lower_accepted || fail reload_lower_accepted "$(audit_events "$LOG" reload | tail -n1)"
same lowered_limit_counts_kept "$(open_as pfs_r1 "$F1")" "errno EACCES "
same lowered_limit_fresh_user "$(open_as pfs_pm "$F1" "$F1" "$F1")" "ok ok errno EACCES "

# ---- one refused cat of a cached name is one line
same cached_name_by_staff "$(open_as pfs_pa "$MNT/INB0000002.txt")" "ok "
same cached_name_cat_refused "$(as pfs_no cat "$MNT/INB0000002.txt" 2>&1)" "cat: $MNT/INB0000002.txt: Permission denied"
nolines() { grep -c '"user":"pfs_no"' "$LOG"; }
same cached_name_one_line "$(grep '"user":"pfs_no"' "$LOG" | grep -c '"path":"/INB0000002.txt"')" 1

# ---- a flood of denials: 3000 distinct 254-byte names from one process
size0=$(stat -c %s "$LOG")
t0=$(date +%s.%N)
same flood_all_refused "$(as pfs_no $PY3 -c '
import os, sys
bad = 0
for i in range(3000):
    try:
        os.close(os.open(os.path.join(sys.argv[1], "A" * 250 + "%04d" % i), os.O_RDONLY))
    except PermissionError:
        continue
    bad += 1
print(bad)' "$MNT")" 0
t1=$(date +%s.%N)
grew=$(($(stat -c %s "$LOG") - size0))
echo "# flood: 3000 denied opens in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s; the log grew $grew bytes"
same flood_lines_in_full "$(nolines)" 20
[ "$grew" -lt 20000 ] && pass flood_log_bounded || fail flood_log_bounded "the log grew $grew bytes"
cut=$(grep '"user":"pfs_no"' "$LOG" | grep '"path":"/AAAA' | head -n1 | $PY3 -c '
import json, sys
j = json.loads(sys.stdin.readline())
print(len(j["path"].encode()), j["path"][-2:], j["detail"])')
same flood_name_cut "$cut" "103 A… name cut to 100 of 255 bytes"
same flood_staff_served "$(open_as pfs_pa "$F1")" "ok "

# the keeper writes the count once the first uncounted denial is 60 s old
denials() { audit_events "$LOG" denials; }
wait_for 75 count_ge 1 eval 'denials | wc -l'
same flood_denials_line "$(denials)" "denied|caller has no profile||further denied requests of this caller for this reason, counted, not written one by one"
same flood_denials_count "$(grep '"event":"denials"' "$LOG" | $PY3 -c '
import json, sys
j = json.loads(sys.stdin.readline())
print(j["count"], j["uid"], j["user"], j["pid"], j["comm"], j["profile"], j["since"] < j["ts"])')" \
	"2981 $(id -u pfs_no) pfs_no None None None True"

# a second flood, counted at unmount (the final tick), once the first flood's
# lines have left the window (61 s: seconds s-60..s)
while [ "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print (b - a < 62) }')" = 1 ]; do sleep 0.2; done
as pfs_no $PY3 -c '
import os, sys
for i in range(500):
    try:
        os.open(os.path.join(sys.argv[1], "B%d" % i), os.O_RDONLY)
    except PermissionError:
        pass' "$MNT"
mount_stop && pass clean_unmount
same flood_lines_total "$(nolines)" "$((20 + 1 + 20 + 1))"
same flood_final_count "$(grep '"event":"denials"' "$LOG" | tail -n1 | $PY3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["count"])')" 480

# every attempt is still counted by the reader
expect verify_after_flood 0 "" "$PFS" audit verify --key "$T/rl.audit.key" --state "$T/rl.state/audit.state" "$LOG"
"$PFS" audit anomalies "$LOG" >"$T/anom.out" 2>&1
same anomalies_noprofile_total "$(grep -o 'pfs_no ([0-9]*): [0-9]* attempts by a user without a function profile' "$T/anom.out")" \
	"pfs_no ($(id -u pfs_no)): 3501 attempts by a user without a function profile"
same anomalies_burst_weighted "$(grep -c 'denial-burst.*pfs_no ([0-9]*): 3001 denied requests within 1 minute' "$T/anom.out")" 1
exit $FAILED
