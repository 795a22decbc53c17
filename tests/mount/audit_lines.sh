#!/bin/bash
# audit_lines.sh — the exact audit line of each kind of request: the lifecycle
# lines, allowed opens of person files (the fields disclosed) and of the
# information file, denials of a caller without a profile (list, lookup, access),
# an xattr value read (one line; size probes and the xattrs tools ask for on their
# own make none), a listing, and the unmount. Every key is compared except ts,
# prev and mac (their form is checked, and the chain by `audit verify`); pid is the
# pid of the process that made the request.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$(cd "$(dirname "$0")" && pwd)/py3"
PY3=/usr/bin/python3 # the system interpreter: other users cannot run root's pyenv shims
fixture_users
fixture_dataset
fixture_config
T0=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
mount_start || exit 1

# run USER CMD... — run CMD as USER (root: as is) with its own pid (exec, so the
# pid FUSE reports is the one we know); output in $T/run.out/.err, pid in $P.
run() {
	local u=$1
	shift
	if [ "$u" = root ]; then
		(exec "$@") >"$T/run.out" 2>"$T/run.err" &
	else
		(exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@") >"$T/run.out" 2>"$T/run.err" &
	fi
	P=$!
	wait $P
}
uid() { id -u "$1"; }
ALL8='["first_name","last_name","address","phone","email","contact_language","dutch_level","mo_status"]'
LIFE='"uid":null,"user":null,"pid":null,"comm":null,"profile":null,"path":null,"record":null,"fields":[]'
want=()
add() { want+=("$1"); }

add '{"seq":1,"event":"config","result":null,"reason":null,'"$LIFE"',"detail":"config '"$T"'/city.ini; profiles: trajectbegeleider projectmedewerker partner beheerder; digest D"}'
add '{"seq":2,"event":"mount","result":null,"reason":null,'"$LIFE"',"detail":"mounted at '"$MNT"': dataset '"$T"'/dataset.pfs, protocol AGII-MECHELEN-AMIF507, serial 1, 3 records"}'

# A caller without a profile: one denied line per request, with the reason. The
# record it asks for has not been looked up by anyone yet (a cached name would add
# the kernel's revalidation lookup, a second line).
run pfs_no ls "$MNT"
same noprofile_ls_refused "$(cat "$T/run.err")" "ls: cannot open directory '$MNT': Permission denied"
add '{"seq":3,"event":"list","result":"denied","reason":"caller has no profile","uid":'"$(uid pfs_no)"',"user":"pfs_no","pid":'$P',"comm":"ls","profile":null,"path":"/","record":null,"fields":[],"detail":null}'
run pfs_no cat "$MNT/INB0000002.txt"
same noprofile_cat_refused "$(cat "$T/run.out" "$T/run.err")" "cat: $MNT/INB0000002.txt: Permission denied"
add '{"seq":4,"event":"lookup","result":"denied","reason":"caller has no profile","uid":'"$(uid pfs_no)"',"user":"pfs_no","pid":'$P',"comm":"cat","profile":null,"path":"/INB0000002.txt","record":null,"fields":[],"detail":null}'
run pfs_no $PY3 -c 'import os, sys; print(os.access(sys.argv[1], os.R_OK))' "$MNT"
same noprofile_access_refused "$(cat "$T/run.out" "$T/run.err")" "False"
add '{"seq":5,"event":"access","result":"denied","reason":"caller has no profile","uid":'"$(uid pfs_no)"',"user":"pfs_no","pid":'$P',"comm":"python3","profile":null,"path":"/","record":null,"fields":[],"detail":null}'

# Allowed opens: the fields disclosed are the profile's, in the profile's order.
run pfs_tb cat "$MNT/INB0000001.txt"
same tb_cat_served "$(head -n1 "$T/run.out") $(wc -l <"$T/run.out")" "voornaam: Amina 8"
add '{"seq":6,"event":"open","result":"allowed","reason":null,"uid":'"$(uid pfs_tb)"',"user":"pfs_tb","pid":'$P',"comm":"cat","profile":"trajectbegeleider","path":"/INB0000001.txt","record":"INB0000001","fields":'"$ALL8"',"detail":null}'
run pfs_pa cat "$MNT/INB0000003.txt"
same pa_cat_served "$(head -n1 "$T/run.out") $(wc -l <"$T/run.out")" "voornaam: Şükrü 3"
add '{"seq":7,"event":"open","result":"allowed","reason":null,"uid":'"$(uid pfs_pa)"',"user":"pfs_pa","pid":'$P',"comm":"cat","profile":"partner","path":"/INB0000003.txt","record":"INB0000003","fields":["first_name","contact_language","dutch_level"],"detail":null}'
run root cat "$MNT/LEESMIJ-README"
[ -s "$T/run.out" ] && pass root_readme_served || fail root_readme_served "empty: $(cat "$T/run.err")"
add '{"seq":8,"event":"open","result":"allowed","reason":null,"uid":0,"user":"root","pid":'$P',"comm":"cat","profile":"beheerder","path":"/LEESMIJ-README","record":null,"fields":[],"detail":null}'

# An xattr value read: one line (getfattr's size probe, if any, makes none).
run pfs_tb getfattr --absolute-names --only-values -n user.protocolfs.deadline "$MNT/INB0000001.txt"
# (the protocol ends 365 days from today: the record goes at the start of the next day)
same tb_getfattr "$(cat "$T/run.out" "$T/run.err")" "$(days_from_today 366)"
add '{"seq":9,"event":"xattr","result":"allowed","reason":null,"uid":'"$(uid pfs_tb)"',"user":"pfs_tb","pid":'$P',"comm":"getfattr","profile":"trajectbegeleider","path":"/INB0000001.txt","record":"INB0000001","fields":[],"detail":null}'

# A listing with ls -l: one list line; its lookups, getattrs and the xattrs ls asks
# for on its own (security.selinux, system.posix_acl_*) make none.
run pfs_tb ls -l "$MNT"
same tb_ls_l "$(awk '{print $1, $NF}' "$T/run.out" | tr '\n' ' ')" "total 3 -r--r--r-- INB0000001.txt -r--r--r-- INB0000002.txt -r--r--r-- INB0000003.txt -r--r--r-- LEESMIJ-README "
add '{"seq":10,"event":"list","result":"allowed","reason":null,"uid":'"$(uid pfs_tb)"',"user":"pfs_tb","pid":'$P',"comm":"ls","profile":"trajectbegeleider","path":"/","record":null,"fields":[],"detail":null}'
# The same xattr calls made directly, and a size probe of our own attribute: no line.
run pfs_tb $PY3 "$PY/xattrs.py" "$MNT/INB0000002.txt" "$MNT"
same tb_other_xattrs "$(cat "$T/run.out" "$T/run.err")" "getxattr security.selinux ENODATA
getxattr system.posix_acl_access ENODATA
getxattr system.posix_acl_default ENODATA
listxattr user.protocolfs.deadline user.protocolfs.reason
probe user.protocolfs.deadline 10
getxattr security.selinux ENODATA
getxattr system.posix_acl_access ENODATA
getxattr system.posix_acl_default ENODATA
listxattr (none)
probe user.protocolfs.deadline ENODATA"

mount_stop && pass clean_unmount
add '{"seq":11,"event":"unmount","result":null,"reason":null,'"$LIFE"',"detail":"'"$MNT"'"}'

# the config digest (file bytes and resolved ids) is checked in reload_config.sh
got=$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | sed 's/; digest [0-9a-f]\{64\}"/; digest D"/')
same exact_lines "$got" "$(printf '%s\n' "${want[@]}")"

# ts: UTC with milliseconds, in order, within this test's run.
T1=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
got=$($PY3 -c '
import json, sys
ts = [json.loads(l)["ts"] for l in open(sys.argv[1])]
print("sorted" if ts == sorted(ts) else "unsorted", len(ts),
      "within" if sys.argv[2] <= ts[0] and ts[-1] <= sys.argv[3] else "outside %s..%s" % (ts[0], ts[-1]))' "$T/audit.log" "$T0" "$T1")
same ts_in_order "$got" "sorted 11 within"

expect verify_key 0 "" "$PFS" audit verify --key "$T/audit.key" "$T/audit.log"
same verify_key_count "$(cat "$T/.out")" "11 lines verified"
expect verify_state 0 "" "$PFS" audit verify --key "$T/audit.key" --state "$T/state/audit.state" "$T/audit.log"
same verify_state_count "$(cat "$T/.out")" "11 lines verified"
same file_modes "$(stat -c '%a %U' "$T/audit.log" "$T/audit.key" "$T/state/audit.state" | tr '\n' ' ')" "600 root 600 root 600 root "
same key_form "$(grep -cE '^[0-9a-f]{64}$' "$T/audit.key") $(wc -c <"$T/audit.key")" "1 65"

# A second mount continues the chain (seq 12..14) and leaves the initial key alone.
key_before=$(sha256sum <"$T/audit.key")
mount_start || exit 1
run pfs_pm cat "$MNT/INB0000002.txt"
mount_stop && pass clean_unmount_2
same key_unchanged "$(sha256sum <"$T/audit.key")" "$key_before"
got=$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | sed -n 12,14p | sed 's/; digest [0-9a-f]\{64\}"/; digest D"/')
same remount_lines "$got" '{"seq":12,"event":"config","result":null,"reason":null,'"$LIFE"',"detail":"config '"$T"'/city.ini; profiles: trajectbegeleider projectmedewerker partner beheerder; digest D"}
{"seq":13,"event":"mount","result":null,"reason":null,'"$LIFE"',"detail":"mounted at '"$MNT"': dataset '"$T"'/dataset.pfs, protocol AGII-MECHELEN-AMIF507, serial 1, 3 records"}
{"seq":14,"event":"open","result":"allowed","reason":null,"uid":'"$(uid pfs_pm)"',"user":"pfs_pm","pid":'$P',"comm":"cat","profile":"projectmedewerker","path":"/INB0000002.txt","record":"INB0000002","fields":["first_name","last_name","phone","email","contact_language","dutch_level","mo_status"],"detail":null}'
expect verify_state_after_remount 0 "" "$PFS" audit verify --key "$T/audit.key" --state "$T/state/audit.state" "$T/audit.log"
same verify_after_remount_count "$(cat "$T/.out")" "15 lines verified"

# ---- rate limits: per user, then per profile (a sliding window: no minute
# boundary to wait for). The first refusal after an allowed open also writes one
# alert line.
sed -i 's/^verify_key = audit.key$/&\nmax_opens_per_minute = 5/' "$T/city.ini"
mount_start || exit 1
run pfs_pa $PY3 "$PY/open1.py" "$MNT/INB0000001.txt" "$MNT/INB0000002.txt" "$MNT/INB0000003.txt" \
	"$MNT/INB0000001.txt" "$MNT/INB0000002.txt" "$MNT/INB0000003.txt" "$MNT/INB0000001.txt" "$MNT/INB0000002.txt"
same rate_user_refusals "$(sed 's/^ok [0-9]*$/ok/' "$T/run.out" | tr '\n' ' ')" "ok ok ok ok ok errno EACCES errno EACCES errno EACCES "
same rate_pm_unaffected "$(as pfs_pm $PY3 "$PY/open1.py" "$MNT/INB0000002.txt")" "ok 151"
mount_stop && pass rate_clean_unmount
PA=',"uid":'"$(uid pfs_pa)"',"user":"pfs_pa","pid":'$P',"comm":"python3","profile":"partner"'
same rate_user_lines "$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | sed -n 23,27p)" '{"seq":23,"event":"alert","result":"denied","reason":"user over max_opens_per_minute"'"$PA"',"path":null,"record":null,"fields":[],"detail":"rate limit reached: the user'"'"'s opens are refused until fewer than max_opens_per_minute were allowed in the last 60 seconds"}
{"seq":24,"event":"open","result":"denied","reason":"rate limit"'"$PA"',"path":"/INB0000003.txt","record":"INB0000003","fields":[],"detail":null}
{"seq":25,"event":"open","result":"denied","reason":"rate limit"'"$PA"',"path":"/INB0000001.txt","record":"INB0000001","fields":[],"detail":null}
{"seq":26,"event":"open","result":"denied","reason":"rate limit"'"$PA"',"path":"/INB0000002.txt","record":"INB0000002","fields":[],"detail":null}
{"seq":27,"event":"open","result":"allowed","reason":null,"uid":'"$(uid pfs_pm)"',"user":"pfs_pm","pid":'"$($PY3 "$PY/auditlog.py" field 27 pid "$T/audit.log")"',"comm":"python3","profile":"projectmedewerker","path":"/INB0000002.txt","record":"INB0000002","fields":["first_name","last_name","phone","email","contact_language","dutch_level","mo_status"],"detail":null}'

sed -i -e 's/^max_opens_per_minute = 5$/max_opens_per_minute_profile = 3/' "$T/city.ini"
mount_start || exit 1
run pfs_tb $PY3 "$PY/open1.py" "$MNT/INB0000001.txt" "$MNT/INB0000002.txt" "$MNT/INB0000003.txt" \
	"$MNT/INB0000001.txt" "$MNT/INB0000002.txt"
same rate_profile_refusals "$(sed 's/^ok [0-9]*$/ok/' "$T/run.out" | tr '\n' ' ')" "ok ok ok errno EACCES errno EACCES "
mount_stop && pass rate_profile_clean_unmount
n=$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | grep -n '"event":"alert"' | tail -n1 | cut -d: -f1)
same rate_profile_alert "$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | sed -n "${n}p")" '{"seq":'$n',"event":"alert","result":"denied","reason":"profile over max_opens_per_minute_profile","uid":'"$(uid pfs_tb)"',"user":"pfs_tb","pid":'$P',"comm":"python3","profile":"trajectbegeleider","path":null,"record":null,"fields":[],"detail":"rate limit reached: the profile'"'"'s opens are refused until fewer than max_opens_per_minute_profile were allowed in the last 60 seconds"}'
same rate_profile_one_alert "$(grep -c '"event":"alert"' "$T/audit.log")" "2"
expect verify_after_rate_limits 0 "" "$PFS" audit verify --key "$T/audit.key" --state "$T/state/audit.state" "$T/audit.log"

# ---- another profile's view, reached through /proc/PID/fd of a process that holds
# it open: root (beheerder) is refused its open and its xattr read, each with one
# line "not the caller's view".
sed -i '/^max_opens_per_minute/d' "$T/city.ini"
mount_start || exit 1
n=$($PY3 "$PY/auditlog.py" last "$T/audit.log")
(exec setpriv --reuid=pfs_tb --regid="$(id -g pfs_tb)" --init-groups -- bash -c 'exec 3<"$1"; exec sleep 30' _ "$MNT/INB0000001.txt") &
HOLDER=$!
on_exit "kill $HOLDER 2>/dev/null"
for i in $(seq 1 100); do [ -e /proc/$HOLDER/fd/3 ] && [ "$(cat /proc/$HOLDER/comm)" = sleep ] && break; sleep 0.05; done
run root cat /proc/$HOLDER/fd/3
same other_view_open_refused "$(cat "$T/run.out" "$T/run.err")" "cat: /proc/$HOLDER/fd/3: Permission denied"
ROOT_OPEN=$P
run root $PY3 -c 'import os, sys
try: os.getxattr(sys.argv[1], "user.protocolfs.deadline")
except OSError as e: print(e.strerror)' /proc/$HOLDER/fd/3
same other_view_xattr_refused "$(cat "$T/run.out" "$T/run.err")" "Permission denied"
kill $HOLDER
wait $HOLDER 2>/dev/null
mount_stop && pass other_view_clean_unmount
same other_view_lines "$($PY3 "$PY/auditlog.py" norm "$T/audit.log" | sed -n "$((n + 1)),\$p")" '{"seq":'$((n + 1))',"event":"open","result":"allowed","reason":null,"uid":'"$(uid pfs_tb)"',"user":"pfs_tb","pid":'$HOLDER',"comm":"bash","profile":"trajectbegeleider","path":"/INB0000001.txt","record":"INB0000001","fields":'"$ALL8"',"detail":null}
{"seq":'$((n + 2))',"event":"open","result":"denied","reason":"not the caller'"'"'s view","uid":0,"user":"root","pid":'$ROOT_OPEN',"comm":"cat","profile":"beheerder","path":"/INB0000001.txt","record":"INB0000001","fields":[],"detail":null}
{"seq":'$((n + 3))',"event":"xattr","result":"denied","reason":"not the caller'"'"'s view","uid":0,"user":"root","pid":'$P',"comm":"python3","profile":"beheerder","path":"/INB0000001.txt","record":"INB0000001","fields":[],"detail":null}
{"seq":'$((n + 4))',"event":"unmount","result":null,"reason":null,'"$LIFE"',"detail":"'"$MNT"'"}'
exit $FAILED
