#!/bin/bash
# audit_report.sh — `protocolfs audit report` and `audit anomalies`: exact output
# on a known log (tests/fixtures/audit, made by a real daemon under libfaketime by
# tests/fixtures/audit/make.sh; three days, a rotated series of three files):
# queries by record, user and period in text, CSV and JSON; anomalies (bulk read,
# denial burst, no profile, rate limit, gap, corrupt line) each with its moment and
# its 48-hour reporting deadline; argument errors. Both commands only read.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"
W=$T/w
mkdir -p "$W"
cp "$TOP"/tests/fixtures/audit/audit.* "$W/" || exit 2
cd "$W" || exit 2
A=audit.log-20260301 # 2026-03-01: lines 1-9
B=audit.log-20260302 # 2026-03-02: lines 10-26
C=audit.log          # 2026-03-02 and 2026-03-03: lines 27-42
report() { "$PFS" audit report "$@"; }
anomalies() { "$PFS" audit anomalies "$@"; }
run_exact fixture_verifies 0 "42 lines verified" "" "$W" "$PFS" audit verify --key audit.key --state audit.state $A $B $C

HEAD="time (UTC)                user             uid    profile            event  result                     record      fields"
TB8="first_name,last_name,address,phone,email,contact_language,dutch_level,mo_status"
PA3="first_name,contact_language,dutch_level"

# ---- report: who opened a person's file (text)
run_exact record_text 0 "$HEAD
2026-03-01T10:00:00.043Z  pfs_tb           1006   trajectbegeleider  open   allowed                    INB0000001  $TB8
2026-03-01T10:00:00.095Z  pfs_tb           1006   trajectbegeleider  xattr  allowed                    INB0000001  -
2026-03-02T09:00:00.074Z  pfs_tb           1006   trajectbegeleider  open   allowed                    INB0000001  $TB8
2026-03-02T09:00:00.129Z  pfs_tb           1006   trajectbegeleider  open   allowed                    INB0000001  $TB8
2026-03-02T09:00:00.171Z  pfs_tb           1006   trajectbegeleider  open   allowed                    INB0000001  $TB8
2026-03-02T09:00:00.217Z  pfs_tb           1006   trajectbegeleider  open   allowed                    INB0000001  $TB8
2026-03-02T09:00:01.417Z  pfs_pa           1008   partner            open   allowed                    INB0000001  $PA3
2026-03-03T14:00:00.078Z  pfs_pa           1008   partner            open   allowed                    INB0000001  $PA3
2026-03-03T14:00:00.123Z  pfs_pa           1008   partner            open   allowed                    INB0000001  $PA3
2026-03-03T14:00:00.163Z  pfs_pa           1008   partner            open   denied (rate limit)        INB0000001  -" "" "$W" report --record INB0000001 $A $B $C
run_exact record_since 0 "$HEAD
2026-03-03T14:00:00.095Z  pfs_pa           1008   partner            open   allowed                    INB0000002  $PA3
2026-03-03T14:00:00.134Z  pfs_pa           1008   partner            open   allowed                    INB0000002  $PA3
2026-03-03T14:00:00.179Z  pfs_pa           1008   partner            open   denied (rate limit)        INB0000002  -" "" "$W" report --record INB0000002 --since 2026-03-03 $A $B $C

# ---- report: what a user opened (CSV), the alert and the refusals included
run_exact user_csv 0 "time,user,uid,profile,event,result,record,fields
\"2026-03-01T10:00:00.063Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000003\",\"$PA3\"
\"2026-03-02T09:00:01.417Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000001\",\"$PA3\"
\"2026-03-03T14:00:00.078Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000001\",\"$PA3\"
\"2026-03-03T14:00:00.095Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000002\",\"$PA3\"
\"2026-03-03T14:00:00.114Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000003\",\"$PA3\"
\"2026-03-03T14:00:00.123Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000001\",\"$PA3\"
\"2026-03-03T14:00:00.134Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"allowed\",\"INB0000002\",\"$PA3\"
\"2026-03-03T14:00:00.149Z\",\"pfs_pa\",\"1008\",\"partner\",\"alert\",\"denied (user over max_opens_per_minute)\",\"\",\"\"
\"2026-03-03T14:00:00.149Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"denied (rate limit)\",\"INB0000003\",\"\"
\"2026-03-03T14:00:00.163Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"denied (rate limit)\",\"INB0000001\",\"\"
\"2026-03-03T14:00:00.179Z\",\"pfs_pa\",\"1008\",\"partner\",\"open\",\"denied (rate limit)\",\"INB0000002\",\"\"" "" "$W" report --user pfs_pa --format csv $A $B $C

# ---- report: a period (JSON); lifecycle lines (no caller) are not rows
run_exact period_json 0 "{\"seq\":3,\"ts\":\"2026-03-01T10:00:00.043Z\",\"user\":\"pfs_tb\",\"uid\":1006,\"profile\":\"trajectbegeleider\",\"event\":\"open\",\"result\":\"allowed\",\"record\":\"INB0000001\",\"fields\":\"$TB8\"}
{\"seq\":4,\"ts\":\"2026-03-01T10:00:00.044Z\",\"user\":\"pfs_tb\",\"uid\":1006,\"profile\":\"trajectbegeleider\",\"event\":\"open\",\"result\":\"allowed\",\"record\":\"INB0000002\",\"fields\":\"$TB8\"}
{\"seq\":5,\"ts\":\"2026-03-01T10:00:00.063Z\",\"user\":\"pfs_pa\",\"uid\":1008,\"profile\":\"partner\",\"event\":\"open\",\"result\":\"allowed\",\"record\":\"INB0000003\",\"fields\":\"$PA3\"}
{\"seq\":6,\"ts\":\"2026-03-01T10:00:00.067Z\",\"user\":\"root\",\"uid\":0,\"profile\":\"beheerder\",\"event\":\"open\",\"result\":\"allowed\",\"record\":\"\",\"fields\":\"\"}
{\"seq\":7,\"ts\":\"2026-03-01T10:00:00.082Z\",\"user\":\"pfs_no\",\"uid\":1009,\"profile\":\"\",\"event\":\"list\",\"result\":\"denied (caller has no profile)\",\"record\":\"\",\"fields\":\"\"}
{\"seq\":8,\"ts\":\"2026-03-01T10:00:00.095Z\",\"user\":\"pfs_tb\",\"uid\":1006,\"profile\":\"trajectbegeleider\",\"event\":\"xattr\",\"result\":\"allowed\",\"record\":\"INB0000001\",\"fields\":\"\"}" "" "$W" report --until 2026-03-01 --format json $A $B $C
run_exact user_day_json 0 "{\"seq\":23,\"ts\":\"2026-03-02T09:00:00.249Z\",\"user\":\"pfs_no\",\"uid\":1009,\"profile\":\"\",\"event\":\"list\",\"result\":\"denied (caller has no profile)\",\"record\":\"\",\"fields\":\"\"}
{\"seq\":24,\"ts\":\"2026-03-02T09:00:00.264Z\",\"user\":\"pfs_no\",\"uid\":1009,\"profile\":\"\",\"event\":\"list\",\"result\":\"denied (caller has no profile)\",\"record\":\"\",\"fields\":\"\"}
{\"seq\":25,\"ts\":\"2026-03-02T09:00:00.278Z\",\"user\":\"pfs_no\",\"uid\":1009,\"profile\":\"\",\"event\":\"list\",\"result\":\"denied (caller has no profile)\",\"record\":\"\",\"fields\":\"\"}
{\"seq\":26,\"ts\":\"2026-03-02T09:00:00.365Z\",\"user\":\"pfs_no\",\"uid\":1009,\"profile\":\"\",\"event\":\"list\",\"result\":\"denied (caller has no profile)\",\"record\":\"\",\"fields\":\"\"}" "" "$W" \
	report --user pfs_no --since 2026-03-02 --until 2026-03-02 --format json $A $B $C
run_exact root_text 0 "$HEAD
2026-03-01T10:00:00.067Z  root             0      beheerder          open   allowed                    -           -" "" "$W" report --user root $A $B $C
run_exact nobody_text 0 "$HEAD" "" "$W" report --user nobody $A $B $C
run_exact empty_period 0 "$HEAD" "" "$W" report --since 2026-03-03 --until 2026-03-02 $A $B $C
run_exact nobody_csv 0 "time,user,uid,profile,event,result,record,fields" "" "$W" report --user nobody --format csv $A $B $C
# The same query over the series or over the one file that holds the lines.
report --user pfs_tb --since 2026-03-02 --format csv $A $B $C >all.csv
report --user pfs_tb --format csv $B >b.csv
same series_equals_file "$(sha256sum <all.csv)" "$(sha256sum <b.csv)"
same tb_opens_on_day_2 "$(grep -c '"open","allowed"' b.csv)" "10"

# ---- report: arguments
refuse bad_format 2 "protocolfs: audit report: --format must be text, csv or json" "$W" report --format xml $A
refuse bad_since 2 "protocolfs: audit report: --since: not a date (YYYY-MM-DD)" "$W" report --since 2026-02-30 $A
refuse bad_until 2 "protocolfs: audit report: --until: not a date (YYYY-MM-DD)" "$W" report --until 2026-3-1 $A
refuse missing_file 2 "protocolfs: audit report: nonexistent: No such file or directory" "$W" report nonexistent

# ---- anomalies, default limits (50 opens in 10 minutes, 10 denials in 1 minute)
NP="2026-03-01T10:00:00Z  no-profile   pfs_no (1009): 5 attempts by a user without a function profile; report to the issuer before 2026-03-03T10:00:00Z"
RL="2026-03-03T14:00:00Z  rate-limit   pfs_pa (1008): user over max_opens_per_minute; report to the issuer before 2026-03-05T14:00:00Z"
BULK="2026-03-02T09:00:00Z  bulk-read    pfs_tb (1006): 10 opens of person files within 10 minutes; report to the issuer before 2026-03-04T09:00:00Z"
BURST_NO="2026-03-02T09:00:00Z  denial-burst pfs_no (1009): 4 denied requests within 1 minute; report to the issuer before 2026-03-04T09:00:00Z"
run_exact anomalies_default 1 "$NP
$RL" "" "$W" anomalies $A $B $C
# tb's 10 opens within a second on 2 March are a bulk read above 5 (not above 10);
# pfs_no's 4 refused listings a burst above 3. pfs_pa made 3 requests that were
# refused (the rate limit's alert line is not a request): no burst above 3.
run_exact anomalies_bulk5_denials3 1 "$BULK
$BURST_NO
$NP
$RL" "" "$W" anomalies --bulk 5 --denials 3 $A $B $C
run_exact anomalies_denials2 1 "$BULK
2026-03-03T14:00:00Z  denial-burst pfs_pa (1008): 3 denied requests within 1 minute; report to the issuer before 2026-03-05T14:00:00Z
$BURST_NO
$NP
$RL" "" "$W" anomalies --bulk 9 --denials 2 $A $B $C
run_exact anomalies_bulk10 1 "$NP
$RL" "" "$W" anomalies --bulk 10 --denials 4 $A $B $C
# A file left out of the series is a gap (at the first line after it).
run_exact anomalies_gap 1 "2026-03-01T10:00:00Z  no-profile   pfs_no (1009): 1 attempt by a user without a function profile; report to the issuer before 2026-03-03T10:00:00Z
2026-03-02T09:00:00Z  gap          audit line 27 follows line 9; report to the issuer before 2026-03-04T09:00:00Z
$RL" "" "$W" anomalies $A $C
# A line that does not parse: named, and the gap it leaves.
sed '3s/"event":"open"/"event":open/' $A >corrupt.log
run_exact anomalies_corrupt 1 "2026-03-01T10:00:00Z  no-profile   pfs_no (1009): 1 attempt by a user without a function profile; report to the issuer before 2026-03-03T10:00:00Z
2026-03-01T10:00:00Z  gap          audit line 4 follows line 2; report to the issuer before 2026-03-03T10:00:00Z
2026-03-01T10:00:00Z  corrupt      corrupt.log:3: 1 unreadable line(s) (run audit verify); report to the issuer before 2026-03-03T10:00:00Z" "" "$W" anomalies corrupt.log
head -n 6 $A >quiet.log
run_exact no_anomalies 0 "no anomalies" "" "$W" anomalies quiet.log

# ---- the 48-hour deadline across a month end (2026 is not a leap year, 2028 is)
# and a year end: the alert line alone, its time changed.
deadline() {
	sed -n '/"event":"alert"/s/"ts":"[^"]*"/"ts":"'"$1"'"/p' $C >one.log
	anomalies one.log
}
same deadline_feb_2026 "$(deadline 2026-02-28T23:30:00.500Z)" "2026-02-28T23:30:00Z  rate-limit   pfs_pa (1008): user over max_opens_per_minute; report to the issuer before 2026-03-02T23:30:00Z"
same deadline_feb_2028 "$(deadline 2028-02-28T12:00:00.000Z)" "2028-02-28T12:00:00Z  rate-limit   pfs_pa (1008): user over max_opens_per_minute; report to the issuer before 2028-03-01T12:00:00Z"
same deadline_year_end "$(deadline 2026-12-31T22:15:59.999Z)" "2026-12-31T22:15:59Z  rate-limit   pfs_pa (1008): user over max_opens_per_minute; report to the issuer before 2027-01-02T22:15:59Z"

# ---- anomalies: arguments
refuse bad_bulk 2 "protocolfs: audit anomalies: --bulk: not a number from 0 to 1000000" "$W" anomalies --bulk x $A
refuse bad_denials 2 "protocolfs: audit anomalies: --denials: not a number from 0 to 1000000" "$W" anomalies --denials -1 $A
exit $FAILED
