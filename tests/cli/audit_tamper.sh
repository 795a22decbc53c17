#!/bin/bash
# audit_tamper.sh — `protocolfs audit verify` on a real log (tests/fixtures/audit,
# made by tests/fixtures/audit/make.sh: 42 lines in a rotated series of three
# files) and on tampered copies of it (test plan D, tests 21-23): each edit,
# deletion, insertion, reordering, truncation and removed file is refused (exit 1)
# naming the first bad file and line; a flip of any byte of a line is caught at that
# line; lines cut from the end are caught only against the daemon's state; and the
# key in the state file cannot re-seal an earlier line, while the initial key,
# ratcheted, reproduces every MAC. verify never writes.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"
PY3=/usr/bin/python3
AUDITLOG="$TOP/tests/mount/py3/auditlog.py"
W=$T/w
mkdir -p "$W"
cp "$TOP"/tests/fixtures/audit/audit.* "$W/" || exit 2
cd "$W" || exit 2
A=audit.log-20260301 # lines 1-9
B=audit.log-20260302 # lines 10-26
C=audit.log          # lines 27-42
verify() { "$PFS" audit verify "$@"; }
BAD=" (a line was removed, inserted or reordered)"

# ---- the intact series
run_exact intact 0 "42 lines verified" "" "$W" verify --key audit.key $A $B $C
run_exact intact_state 0 "42 lines verified" "" "$W" verify --key audit.key --state audit.state $A $B $C
run_exact intact_first_file 0 "9 lines verified" "" "$W" verify --key audit.key $A

# ---- edits: the MAC of the edited line fails
sed '5s/"user":"pfs_pa"/"user":"pfs_pb"/' $A >e.user
refuse edit_user 1 "protocolfs: audit verify: e.user:5: MAC does not verify: the line was altered" "$W" verify --key audit.key e.user $B $C
sed '3s/"ts":"2026-03-01T10:00:00/"ts":"2026-03-01T09:00:00/' $A >e.ts
refuse edit_ts 1 "protocolfs: audit verify: e.ts:3: MAC does not verify: the line was altered" "$W" verify --key audit.key e.ts
sed '4s/"dutch_level","mo_status"\]/"dutch_level"]/' $A >e.fields
refuse edit_fields 1 "protocolfs: audit verify: e.fields:4: MAC does not verify: the line was altered" "$W" verify --key audit.key e.fields
sed '6s/"prev":"\(.\)/"prev":"f\1/; 6s/"prev":"f\(.\{63\}\)./"prev":"f\1/' $A >e.prev
same edit_prev_same_length "$(sed -n 6p e.prev | wc -c)" "$(sed -n 6p $A | wc -c)"
refuse edit_prev 1 "protocolfs: audit verify: e.prev:6: hash chain broken: the line before was changed or removed" "$W" verify --key audit.key e.prev
sed '7s/"mac":"[0-9a-f]\{64\}"/"mac":"'"$(printf '0%.0s' $(seq 64))"'"/' $A >e.mac
refuse edit_mac 1 "protocolfs: audit verify: e.mac:7: MAC does not verify: the line was altered" "$W" verify --key audit.key e.mac

# ---- lines removed, inserted, reordered
sed '5d' $A >e.del
refuse deleted_line 1 "protocolfs: audit verify: e.del:5: line has seq 6, expected 5$BAD" "$W" verify --key audit.key e.del $B $C
sed '4r /dev/stdin' $A < <(sed -n 3p $A) >e.ins
refuse inserted_copy 1 "protocolfs: audit verify: e.ins:5: line has seq 3, expected 5$BAD" "$W" verify --key audit.key e.ins $B $C
awk 'NR == 5 { held = $0; next } { print } NR == 6 { print held }' $A >e.swap
same reordered_is_a_swap "$(sort e.swap | sha256sum)" "$(sort $A | sha256sum)"
refuse reordered 1 "protocolfs: audit verify: e.swap:5: line has seq 6, expected 5$BAD" "$W" verify --key audit.key e.swap $B $C
sed '$d' $A >e.cut1
refuse first_file_cut 1 "protocolfs: audit verify: $B:1: line has seq 10, expected 9$BAD" "$W" verify --key audit.key e.cut1 $B $C

# ---- the end of the log: a torn line, lines cut off
head -c -40 $C >e.torn
refuse torn_last_line 1 "protocolfs: audit verify: e.torn:16: torn last line (no newline): truncated" "$W" verify --key audit.key $A $B e.torn
head -c -1 $B >e.nonl
refuse torn_middle_file 1 "protocolfs: audit verify: e.nonl:17: torn last line (no newline): truncated" "$W" verify --key audit.key $A e.nonl $C
sed '$d' $C >e.short
run_exact last_line_removed_no_state 0 "41 lines verified" "" "$W" verify --key audit.key $A $B e.short
# (the state holds the next line's seq, 43)
refuse last_line_removed_state 1 "protocolfs: audit verify: audit.state: the log ends at line 41, but the daemon's state says line 42 was written: lines were cut from the end" \
	"$W" verify --key audit.key --state audit.state $A $B e.short
sed '6,$d' $C >e.short11
# cut_found NAME ENDS_AT FILES... — refused against the state, naming where the log
# ends (the number the state expects is checked once, above).
cut_found() {
	local name=$1 at=$2
	shift 2
	verify --key audit.key --state audit.state "$@" >"$T/.out" 2>"$T/.err"
	same "$name" "$? $(sed -E 's/says line [0-9]+ was written/says line N was written/' "$T/.err")$(cat "$T/.out")" \
		"1 protocolfs: audit verify: audit.state: the log ends at line $at, but the daemon's state says line N was written: lines were cut from the end"
}
cut_found eleven_lines_removed_state 31 $A $B e.short11
cut_found newest_file_removed_state 26 $A $B

# The fixed tail of the last line (the bytes after the MAC'd prefix: ","mac":" and
# the closing "}) changed: the line is no longer what the daemon wrote.
$PY3 - $C <<'EOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.rindex(b'","mac":"')
d[i + 2] = ord("M")   # ","Mac":"
d[-2] = ord("]")      # ...hex"]
open("e.tail", "wb").write(d)
EOF
refuse last_line_tail_edited 1 "protocolfs: audit verify: e.tail:16: MAC does not verify: the line was altered" "$W" verify --key audit.key $A $B e.tail

# ---- the rotated series: a file left out, files out of order, a foreign key
refuse middle_file_removed 1 "protocolfs: audit verify: $C:1: line has seq 27, expected 10$BAD" "$W" verify --key audit.key $A $C
refuse first_file_removed 1 "protocolfs: audit verify: $B:1: line has seq 10, expected 1$BAD" "$W" verify --key audit.key $B $C
refuse files_swapped 1 "protocolfs: audit verify: $C:1: line has seq 27, expected 10$BAD" "$W" verify --key audit.key $A $C $B
refuse file_twice 1 "protocolfs: audit verify: $A:1: line has seq 1, expected 10$BAD" "$W" verify --key audit.key $A $A $B $C
printf '%064d\n' 0 >other.key
refuse wrong_key 1 "protocolfs: audit verify: $A:1: MAC does not verify: the line was altered" "$W" verify --key other.key $A $B $C
refuse no_key 2 "protocolfs: audit verify: --key is required (the initial verification key)" "$W" verify $A
refuse not_a_key 2 "protocolfs: audit verify: $A: not an audit verification key" "$W" verify --key $A $A

# ---- every byte of one line (line 5: a person file opened by a partner)
same byte_sweep "$($PY3 - "$PFS" $A <<'EOF'
import subprocess, sys
pfs, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
lines = data.split(b"\n")
start = sum(len(l) + 1 for l in lines[:4])
end = start + len(lines[4]) + 1          # the line and its newline
missed = []
for off in range(start, end):
    bad = bytearray(data)
    bad[off] ^= 0x01
    open("sweep", "wb").write(bad)
    r = subprocess.run([pfs, "audit", "verify", "--key", "audit.key", "sweep"],
                       capture_output=True, text=True)
    if r.returncode != 1 or not r.stderr.startswith("protocolfs: audit verify: sweep:5: "):
        missed.append("%d:%d:%s" % (off - start, r.returncode, r.stderr.strip()))
print("%d bytes flipped, %d missed %s" % (end - start, len(missed), " ".join(missed[:3])))
EOF
)" "$(($(sed -n 5p $A | wc -c))) bytes flipped, 0 missed "
rm -f sweep

# ---- forward security: the daemon's state key (for line 43) cannot make line k's
# MAC; the initial key ratcheted k-1 times does.
for k in 1 5 26 42; do
	same "state_key_cannot_mac_line_$k" "$($PY3 "$AUDITLOG" macinfo audit.state audit.key $k $A $B $C)" "state no ratchet yes"
done
same state_key_is_next_key "$($PY3 - <<'EOF'
import hashlib
key = bytes.fromhex(open("audit.key").read().strip())
for _ in range(42):
    key = hashlib.blake2b(b"protocolfs audit ratchet v1", digest_size=32, key=key).digest()
print(open("audit.state", "rb").read()[48:80] == key)
EOF
)" "True"
# An insider with the state re-seals an edited line 5 with the only key they have.
$PY3 - $A <<'EOF'
import hashlib, sys
key = open("audit.state", "rb").read()[48:80]
lines = open(sys.argv[1], "rb").read().split(b"\n")
line = lines[4].replace(b'"user":"pfs_pa"', b'"user":"pfs_pb"')
cut = line.rindex(b'","mac":"')
mac = hashlib.blake2b(line[:cut], digest_size=32, key=key).hexdigest().encode()
lines[4] = line[:cut + 9] + mac + b'"}'
open("e.reseal", "wb").write(b"\n".join(lines))
EOF
refuse resealed_with_state_key 1 "protocolfs: audit verify: e.reseal:5: MAC does not verify: the line was altered" "$W" verify --key audit.key e.reseal
exit $FAILED
