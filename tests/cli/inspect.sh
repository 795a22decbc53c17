#!/bin/bash
# inspect.sh — `protocolfs inspect`: the exact report of a sealed dataset; exit 0
# only when the issuer's signature verifies; every damaged, truncated, extended or
# foreign file is refused (exit 1) with a message saying what failed; a file that
# cannot be read is exit 2; inspect never writes and never prints personal data.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"

W=$T/w
mkdir -p "$W"
cd "$W" || exit 2
"$PFS" keygen issuer agency >/dev/null && "$PFS" keygen recipient city >/dev/null &&
	"$PFS" keygen issuer other >/dev/null || {
	fail "setup" "keygen failed"
	exit 1
}
IK=$(key_id agency.pub)
RK=$(key_id city.pub)
OK=$(key_id other.pub)

# Personal data: every value below must never appear in inspect's output.
printf '%s\r\n' \
	'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op' \
	'D-2021-0002;Mieke;Vandersteen;"Bruul 2, 2800 Mechelen";0471654321;mieke.v@example.be;Frans;A2;afgerond;2021-10-15' \
	'D-2021-0001;Jozef;Pieterszoon;Kerkstraat 1;0470123456;jozef.p@example.be;Arabisch;A1;bezig;2021-07-01' \
	'D-2022-0003;Aïcha;El Idrissi;Grote Markt 3;0472987654;aicha@example.be;Tigrinya;B1;niet gestart;2022-06-30' >export.csv
PERSONAL='Mieke|Vandersteen|Bruul|0471654321|mieke\.v@|Jozef|Pieterszoon|Kerkstraat|0470123456|jozef\.p@|Aïcha|El Idrissi|Grote Markt|0472987654|aicha@|Arabisch|Tigrinya|afgerond|niet gestart'

before=$(date -u +%s)
"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 42 export.csv d.pfs >/dev/null || {
	fail "setup" "seal failed"
	exit 1
}
after=$(date -u +%s)
SIZE=$(stat -c %s d.pfs)
HL=$(le32 d.pfs 8)           # header length (doc: magic[8] hlen u32le header sig[64] ...)
SIG=$((12 + HL))             # offset of the signature
MAN=$((SIG + 64))            # manifest: 3 entries of 36 bytes (shared_on, commitment), then 3 flag bytes
REC1=$((MAN + 3 * 37))       # the first record's unit: u32 length of the rest, nonce, id, values
UL1=$((4 + $(le32 d.pfs $REC1)))
REC2=$((REC1 + UL1))
UL2=$((4 + $(le32 d.pfs $REC2)))
REC3=$((REC2 + UL2))
UL3=$((4 + $(le32 d.pfs $REC3)))

REPORT="dataset:    d.pfs
protocol:   AGII-MECHELEN-AMIF507
issuer:     Agentschap Integratie en Inburgering (key $IK)
recipient:  stad Mechelen (key $RK)
serial:     42
issued:     ISSUED
window:     2021-07-01 to 2022-06-30 inclusive (Europe/Brussels)
retention:  5y after shared_on
fields:     first_name last_name address phone email contact_language dutch_level mo_status
records:    3 (3 present, 0 purged)
deadlines:  2026-07-01 (earliest) to 2027-06-30 (latest)
now:        0 visible, 3 expired"

# masked CMD... — run CMD; its stdout with the issued time replaced by ISSUED.
# Its exit status is CMD's; its stderr goes to $T/.err2.
masked() {
	local rc
	"$@" >"$T/.m" 2>"$T/.err2"
	rc=$?
	sed -E 's/^issued:     [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/issued:     ISSUED/' "$T/.m"
	return $rc
}

run_exact "inspect --issuer: exit 0, exact report" 0 "$REPORT
signature:  verified" "" "$W" masked "$PFS" inspect --issuer agency.pub d.pfs
same "inspect --issuer: nothing on stderr" "$(cat "$T/.err2")" ""

issued=$("$PFS" inspect --issuer agency.pub d.pfs | sed -n 's/^issued:     //p')
isec=$(date -u -d "${issued%Z}" +%s 2>/dev/null || echo 0)
ok_if "issued: the seal time, UTC" "issued '$issued', sealed between $before and $after" \
	[ "$isec" -ge "$before" -a "$isec" -le "$after" -a "$(date -u -d "@$isec" +%Y-%m-%dT%H:%M:%SZ)" = "$issued" ]

run_exact "inspect without --issuer: exit 1, NOT CHECKED" 1 "$REPORT
signature:  NOT CHECKED (give --issuer with the agency's public key)" "" "$W" \
	masked "$PFS" inspect d.pfs
same "inspect without --issuer: nothing on stderr" "$(cat "$T/.err2")" ""
run_exact "inspect --issuer=F form" 0 "$REPORT
signature:  verified" "" "$W" masked "$PFS" inspect --issuer=agency.pub d.pfs

if command -v faketime >/dev/null; then
	rm -f ft.pfs
	env TZ=UTC faketime -f '2021-12-24 13:45:07' "$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key \
		--recipient city.pub --serial 42 export.csv ft.pfs >/dev/null
	run_exact "inspect of a dataset sealed at a known time: exact report, nothing masked" 0 \
		"$(echo "$REPORT" | sed 's/^dataset:    d.pfs/dataset:    ft.pfs/; s/^issued:     ISSUED/issued:     2021-12-24T13:45:07Z/')
signature:  verified" "" "$W" "$PFS" inspect --issuer agency.pub ft.pfs
	rm -f ft.pfs
else
	fail "inspect of a dataset sealed at a known time" "faketime is not installed (make deps)"
fi

# ------------------------------------------------------------ wrong key, damage

FAILED_OUT="signature:  FAILED"
# damaged NAME FILE MESSAGE — inspect --issuer agency.pub FILE: exit 1,
# "signature:  FAILED" on stdout and exactly "protocolfs: inspect: MESSAGE".
damaged() {
	run_exact "$1" 1 "$FAILED_OUT" "protocolfs: inspect: $3" "$W" "$PFS" inspect --issuer agency.pub "$2"
}

run_exact "wrong issuer key: exit 1, names both key ids" 1 "$FAILED_OUT" \
	"protocolfs: inspect: d.pfs: signed by issuer key $IK, but the key given is $OK (wrong issuer key)" \
	"$W" "$PFS" inspect --issuer other.pub d.pfs

cp d.pfs h1.pfs && flip_byte h1.pfs $((12 + 180 + 3)) # a byte of the protocol id
damaged "header byte flipped (protocol id)" h1.pfs "h1.pfs: issuer signature does not verify (header altered)"
cp d.pfs h2.pfs && flip_byte h2.pfs $((12 + 36)) # serial
damaged "header byte flipped (serial)" h2.pfs "h2.pfs: issuer signature does not verify (header altered)"
cp d.pfs h3.pfs && flip_byte h3.pfs $((12 + 56)) # protocol end date
damaged "header byte flipped (end of the window)" h3.pfs "h3.pfs: issuer signature does not verify (header altered)"
cp d.pfs h4.pfs && flip_byte h4.pfs $((12 + 100)) # the sealed file key
damaged "header byte flipped (sealed file key)" h4.pfs "h4.pfs: issuer signature does not verify (header altered)"
cp d.pfs h5.pfs && flip_byte h5.pfs $((SIG + 10))
damaged "signature byte flipped" h5.pfs "h5.pfs: issuer signature does not verify (header altered)"
cp d.pfs m1.pfs && flip_byte m1.pfs $((MAN + 36 + 20)) # a record's commitment in the manifest
damaged "index byte flipped (a record commitment)" m1.pfs "m1.pfs: index does not match the signed header (altered)"
cp d.pfs m2.pfs && flip_byte m2.pfs $((MAN + 1)) # a shared_on date
damaged "index byte flipped (a shared_on date)" m2.pfs "m2.pfs: index does not match the signed header (altered)"
cp d.pfs b2.pfs && flip_byte b2.pfs $((REC2 + UL2 / 2))
damaged "record byte flipped: names the record" b2.pfs \
	"b2.pfs: record 2 (byte $REC2): does not match its signed digest"
cp d.pfs b4.pfs && flip_byte b4.pfs $((REC1 + 40)) # the first record's encrypted id
damaged "encrypted id byte flipped: names the record" b4.pfs \
	"b4.pfs: record 1 (byte $REC1): does not match its signed digest"
cp d.pfs b3.pfs && flip_byte b3.pfs $((SIZE - 1))
damaged "last byte flipped: names the last record" b3.pfs \
	"b3.pfs: record 3 (byte $REC3): does not match its signed digest"
cp d.pfs l1.pfs && printf '\377\377' | dd of=l1.pfs bs=1 seek=$((REC2 + 2)) conv=notrunc status=none
damaged "a record length out of bounds" l1.pfs "l1.pfs: record 2 (byte $REC2): malformed record length"
cp d.pfs f1.pfs && flip_byte f1.pfs $((MAN + 3 * 36 + 1)) # present flag 1 -> 0, the unit still there
damaged "a present flag cleared, the record left in place" f1.pfs \
	"f1.pfs: file is $SIZE bytes, the records end at byte $((SIZE - UL3)) (extended)"
cp d.pfs f2.pfs && printf '\002' | dd of=f2.pfs bs=1 seek=$((MAN + 3 * 36)) conv=notrunc status=none
damaged "a flag byte that is neither 0 nor 1" f2.pfs "f2.pfs: record 1: malformed index entry"

head -c $((SIZE - 1)) d.pfs >t1.pfs
damaged "truncated by one byte" t1.pfs "t1.pfs: record 3 (byte $REC3): truncated (the file ends inside it)"
head -c $((REC1 + 5)) d.pfs >t2.pfs
damaged "truncated in the first record" t2.pfs "t2.pfs: record 1 (byte $REC1): truncated (the file ends inside it)"
head -c $((REC1 + 2)) d.pfs >t7.pfs
damaged "truncated in the first record's length" t7.pfs "t7.pfs: record 1 (byte $REC1): truncated (the file ends inside it)"
head -c $((MAN + 50)) d.pfs >t3.pfs
damaged "truncated in the index" t3.pfs "t3.pfs: truncated: the index ends beyond the end of the file"
head -c 100 d.pfs >t4.pfs
damaged "truncated in the header" t4.pfs "t4.pfs: truncated or malformed header"
head -c 10 d.pfs >t5.pfs
damaged "truncated to 10 bytes" t5.pfs "t5.pfs: not a protocolfs dataset (bad magic)"
: >t6.pfs
damaged "empty file" t6.pfs "t6.pfs: not a protocolfs dataset (bad magic)"
{ cat d.pfs; printf 'x'; } >e1.pfs
damaged "one byte appended" e1.pfs "e1.pfs: file is $((SIZE + 1)) bytes, the records end at byte $SIZE (extended)"
{ cat d.pfs d.pfs; } >e2.pfs
damaged "the dataset twice in one file" e2.pfs "e2.pfs: file is $((2 * SIZE)) bytes, the records end at byte $SIZE (extended)"
damaged "a text file (the export itself)" export.csv "export.csv: not a protocolfs dataset (bad magic)"
damaged "a key file" agency.pub "agency.pub: not a protocolfs dataset (bad magic)"

run_exact "damage without --issuer: still exit 1 with the message" 1 "$FAILED_OUT" \
	"protocolfs: inspect: b2.pfs: record 2 (byte $REC2): does not match its signed digest" \
	"$W" "$PFS" inspect b2.pfs
# Nothing is read, so nothing is claimed about a signature: exit 2, stdout empty.
refuse "missing file: exit 2" 2 "protocolfs: inspect: nope.pfs: No such file or directory" "$W" \
	"$PFS" inspect --issuer agency.pub nope.pfs
mkdir folder.pfs
refuse "a folder: exit 2" 2 "protocolfs: inspect: folder.pfs: not a regular file" "$W" \
	"$PFS" inspect --issuer agency.pub folder.pfs

# ------------------------------------------------------------ never personal data

{
	for f in d.pfs h1.pfs b2.pfs b3.pfs t1.pfs e1.pfs m1.pfs export.csv; do
		"$PFS" inspect --issuer agency.pub "$f"
		"$PFS" inspect "$f"
		"$PFS" inspect --issuer other.pub "$f"
	done
} >"$T/all.log" 2>&1
ok_if "inspect never prints personal data (good, damaged, wrong key, the CSV itself)" \
	"found: $(grep -oE "$PERSONAL" "$T/all.log" | sort -u | tr '\n' ' ')" \
	not grep -qE "$PERSONAL" "$T/all.log"
ok_if "the personal-data check can see the data (sanity)" "grep missed it" grep -qE "$PERSONAL" export.csv
same "inspect never writes: no file added to the folder" "$(ls -a | grep -c '\.tmp\.')" 0

# ------------------------------------------------------------ other terms

# A protocol whose window holds 29 February and a retention in months.
cat >leap.ini <<'EOF'
[protocol]
id = TEST-LEAP-2024
issuer = Agentschap Integratie en Inburgering
recipient = stad Mechelen
start = 2024-01-01
end = 2024-12-31
timezone = Europe/Brussels
retention = 5y
[fields]
id = dossiernummer
first_name = voornaam
shared_on = gedeeld_op
EOF
printf 'dossiernummer;voornaam;gedeeld_op\nL1;Jan;2024-02-29\nL2;Mie;2024-03-01\n' >leap.csv
"$PFS" seal --protocol leap.ini --issuer-key agency.key --recipient city.pub --serial 3 leap.csv leap.pfs >/dev/null
run_exact "retention 5y from 29 February 2024 ends on 28 February 2029" 0 \
	"dataset:    leap.pfs
protocol:   TEST-LEAP-2024
issuer:     Agentschap Integratie en Inburgering (key $IK)
recipient:  stad Mechelen (key $RK)
serial:     3
issued:     ISSUED
window:     2024-01-01 to 2024-12-31 inclusive (Europe/Brussels)
retention:  5y after shared_on
fields:     first_name
records:    2 (2 present, 0 purged)
deadlines:  2029-02-28 (earliest) to 2029-03-01 (latest)
now:        0 visible, 2 expired
signature:  verified" "" "$W" masked "$PFS" inspect --issuer agency.pub leap.pfs

sed 's/^retention = .*/retention = 18m/; s/^timezone = .*/timezone = UTC/' leap.ini >months.ini
printf 'dossiernummer;voornaam;gedeeld_op\nM1;Jan;2024-08-31\nM2;Mie;2024-01-31\n' >months.csv
"$PFS" seal --protocol months.ini --issuer-key agency.key --recipient city.pub --serial 4 months.csv months.pfs >/dev/null
same "retention 18m: printed as months, end of month clamped" \
	"$(masked "$PFS" inspect --issuer agency.pub months.pfs | grep -E '^(window|retention|deadlines):')" \
	"window:     2024-01-01 to 2024-12-31 inclusive (UTC)
retention:  18m after shared_on
deadlines:  2025-07-31 (earliest) to 2026-02-28 (latest)"

printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\n' >empty.csv
"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 18446744073709551615 \
	empty.csv empty.pfs >/dev/null
same "an empty dataset: 0 records, no deadlines, largest serial" \
	"$(masked "$PFS" inspect --issuer agency.pub empty.pfs | grep -E '^(serial|records|deadlines|signature):')" \
	"serial:     18446744073709551615
records:    0 (0 present, 0 purged)
deadlines:  none (no records present)
signature:  verified"

exit $FAILED
