#!/bin/bash
# terminate.sh — `protocolfs terminate` (Art. 8, 12: the issuer may end the
# protocol): the exact notice written (comment line, then base64 of "PFSN" v1,
# issuer key id, date, issue time, protocol id, Ed25519 signature), 0644, never
# replacing a file; every usage error, a bad date, a key of the wrong kind, a
# passphrase-protected key; and how `check` judges notices in the notices folder:
# the issuer's notice for this protocol is taken, one signed by another issuer
# key, one for another protocol, an altered one and a damaged one are refused,
# each named. (Notices on a running mount: tests/mount/time_terminate.sh.)
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"

W=$T/w
mkdir -p "$W"
cd "$W" || exit 2
"$PFS" keygen issuer agency >/dev/null && "$PFS" keygen recipient city >/dev/null &&
	"$PFS" keygen issuer other >/dev/null || {
	fail setup "keygen failed"
	exit 1
}
printf 'correct horse\n' >pass && chmod 600 pass
printf 'wrong horse\n' >wrong && chmod 600 wrong
"$PFS" keygen issuer locked --passphrase-file pass >/dev/null || {
	fail setup "keygen --passphrase-file failed"
	exit 1
}

# ---- usage
"$PFS" terminate --help >"$T/h.out" 2>"$T/h.err"
same help "$? $(head -n1 "$T/h.out") $(wc -c <"$T/h.err")" "0 usage: protocolfs terminate --issuer-key I.key [--passphrase-file F] --protocol ID 0"
refuse no_args 2 "protocolfs: terminate: missing arguments (see protocolfs terminate --help)" "$W" "$PFS" terminate
refuse no_options 2 "protocolfs: terminate: --issuer-key, --protocol and --at are required" "$W" "$PFS" terminate o.notice
refuse no_at 2 "protocolfs: terminate: --issuer-key, --protocol and --at are required" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol P o.notice
refuse no_protocol 2 "protocolfs: terminate: --issuer-key, --protocol and --at are required" "$W" \
	"$PFS" terminate --issuer-key agency.key --at 2040-07-01 o.notice
refuse no_key 2 "protocolfs: terminate: --issuer-key, --protocol and --at are required" "$W" \
	"$PFS" terminate --protocol P --at 2040-07-01 o.notice
refuse no_output 2 "protocolfs: terminate: missing arguments (see protocolfs terminate --help)" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol P --at 2040-07-01
refuse two_outputs 2 "protocolfs: terminate: unexpected argument (see protocolfs terminate --help)" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol P --at 2040-07-01 a.notice b.notice
refuse unknown_option 2 "protocolfs: terminate: unknown option --bogus (see protocolfs terminate --help)" "$W" \
	"$PFS" terminate --bogus --issuer-key agency.key --protocol P --at 2040-07-01 o.notice
for d in 2022-02-29 2023-02-29 2040-7-01 2040-07-1 2040-13-01 2040-04-31 1899-12-31 tomorrow "" "2040-07-01 "; do
	refuse "bad_date_'$d'" 2 "protocolfs: terminate: --at: not a date (YYYY-MM-DD)" "$W" \
		"$PFS" terminate --issuer-key agency.key --protocol P --at "$d" o.notice
done
refuse recipient_key 2 "protocolfs: terminate: city.key: this is a recipient key; an issuer key is needed here" "$W" \
	"$PFS" terminate --issuer-key city.key --protocol P --at 2040-07-01 o.notice
refuse public_key 2 "protocolfs: terminate: agency.pub: this is an issuer public key; a secret key is needed here" "$W" \
	"$PFS" terminate --issuer-key agency.pub --protocol P --at 2040-07-01 o.notice
refuse missing_key 2 "protocolfs: terminate: nope.key: No such file or directory" "$W" \
	"$PFS" terminate --issuer-key nope.key --protocol P --at 2040-07-01 o.notice
refuse empty_protocol 2 "protocolfs: terminate: protocol id must be 1 to 255 bytes" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol "" --at 2040-07-01 o.notice
refuse long_protocol 2 "protocolfs: terminate: protocol id must be 1 to 255 bytes" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol "$(printf 'P%.0s' $(seq 256))" --at 2040-07-01 o.notice
refuse no_folder 2 "protocolfs: terminate: $W/nope/o.notice: cannot create temporary file: No such file or directory" "$W" \
	"$PFS" terminate --issuer-key agency.key --protocol P --at 2040-07-01 "$W/nope/o.notice"

# ---- a passphrase-protected issuer key
run_ok locked_key_with_passphrase "wrote locked.notice: protocol TEST-TERM ends at the start of 2040-07-01" \
	"$PFS" terminate --issuer-key locked.key --passphrase-file pass --protocol TEST-TERM --at 2040-07-01 locked.notice
rm -f locked.notice
refuse locked_key_wrong_passphrase 2 "protocolfs: terminate: locked.key: wrong passphrase (or damaged key file)" "$W" \
	"$PFS" terminate --issuer-key locked.key --passphrase-file wrong --protocol TEST-TERM --at 2040-07-01 locked.notice
refuse locked_key_no_passphrase 2 "protocolfs: terminate: locked.key: key is passphrase-protected: give --passphrase-file" "$W" \
	"$PFS" terminate --issuer-key locked.key --protocol TEST-TERM --at 2040-07-01 locked.notice

# ---- the notice written, byte by byte
before=$(date +%s)
run_ok writes "wrote good.notice: protocol TEST-TERM ends at the start of 2040-07-01" \
	"$PFS" terminate --issuer-key agency.key --protocol TEST-TERM --at 2040-07-01 good.notice
after=$(date +%s)
same notice_mode "$(stat -c %a good.notice)" 644
same notice_two_lines "$(wc -l <good.notice)" 2
same notice_comment "$(sed -n 1p good.notice)" "protocolfs termination notice: TEST-TERM ends at the start of 2040-07-01"
same notice_no_temp_left "$(ls -A "$W" | grep -c tmp)" 0
# "PFSN" version keyid[8] at_day i32 issued_at i64 id_len u8 id signature[64]
out=$(sed -n 2p good.notice | base64 -d | python3 -c '
import struct, sys
b = sys.stdin.buffer.read()
n = b[25]
print(b[:4].decode(), b[4], b[5:13].hex(), struct.unpack_from("<i", b, 13)[0],
      struct.unpack_from("<q", b, 17)[0], n, b[26:26 + n].decode(), len(b) - 26 - n)')
read -r magic ver kid day iss idlen id siglen <<<"$out"
same notice_fields "$magic $ver $kid $day $idlen $id $siglen" "PFSN 1 $(key_id agency.pub) $(($(date -u -d 2040-07-01 +%s) / 86400)) 9 TEST-TERM 64"
[ "$iss" -ge "$before" ] && [ "$iss" -le "$after" ] && pass notice_issued_now || fail notice_issued_now "$iss not in $before..$after"
run_ok leap_day_date "wrote leap.notice: protocol TEST-TERM ends at the start of 2040-02-29" \
	"$PFS" terminate --issuer-key agency.key --protocol TEST-TERM --at 2040-02-29 leap.notice
# an existing file is never replaced (nor is the hint an option terminate lacks)
"$PFS" terminate --issuer-key agency.key --protocol TEST-TERM --at 2040-08-01 good.notice >"$T/e.out" 2>"$T/e.err"
rc=$?
same exists_refused "$rc $(sed -n 1p good.notice)" "2 protocolfs termination notice: TEST-TERM ends at the start of 2040-07-01"
if grep -q -- '--force' "$T/e.err" && ! "$PFS" terminate --help | grep -q -- '--force'; then
	fail exists_message_hint "'$(cat "$T/e.err")' advises --force, which terminate does not accept"
else
	pass exists_message_hint
fi

# ---- check judges the notices in the notices folder (state_dir/notices)
"$PFS" terminate --issuer-key other.key --protocol TEST-TERM --at 2040-06-01 otherkey.notice >/dev/null &&
	"$PFS" terminate --issuer-key agency.key --protocol OTHER-ID --at 2040-06-01 otherproto.notice >/dev/null &&
	"$PFS" terminate --issuer-key agency.key --protocol TEST-TERMX --at 2040-06-01 prefix.notice >/dev/null &&
	"$PFS" terminate --issuer-key agency.key --protocol TEST-TERM --at 2040-06-02 altered.notice >/dev/null || {
	fail setup "terminate failed"
	exit 1
}
# altered: at_day one day earlier after signing; truncated: the signature cut short
python3 - altered.notice <<'EOF'
import base64, struct, sys
p = sys.argv[1]
head, b64 = open(p).read().split("\n")[:2]
blob = bytearray(base64.b64decode(b64))
struct.pack_into("<i", blob, 13, struct.unpack_from("<i", blob, 13)[0] - 1)
open(p, "w").write(head + "\n" + base64.b64encode(bytes(blob)).decode() + "\n")
EOF
{
	sed -n 1p good.notice
	sed -n 2p good.notice | base64 -d | head -c -10 | base64 -w0
	echo
} >truncated.notice
sed -e "0,/^id = .*/s//id = TEST-TERM/" -e 's/^start = .*/start = 2040-01-01/' -e 's/^end = .*/end = 2045-12-31/' "$PROTOCOL" >p.ini
printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\nX1;a;b;c;d;e;f;g;h;2040-01-02\n' >x.csv
"$PFS" seal --protocol p.ini --issuer-key agency.key --recipient city.pub --serial 1 x.csv d.pfs >/dev/null || {
	fail setup "seal failed"
	exit 1
}
mkdir -p state/notices
cat >city.ini <<'EOF'
[dataset]
path = d.pfs
issuer_key = agency.pub
recipient_key = city.key
state_dir = state

[audit]
log = audit.log
verify_key = audit.key

[labels]
first_name = voornaam

[profile:beheer]
fields = first_name
users = 0
EOF
chmod 600 city.ini
same check_no_notice "$("$PFS" check city.ini | grep -E '^(notice|window):')" "window:     2040-01-01 to 2045-12-31 inclusive (Europe/Brussels): not yet in force"
for n in good otherkey otherproto prefix altered truncated; do cp $n.notice state/notices/; done
N=$W/state/notices
same check_notices "$("$PFS" check city.ini | grep '^notice:' | LC_ALL=C sort)" "notice:     altered.notice: REFUSED: $N/altered.notice: the issuer's signature does not verify
notice:     good.notice: the protocol ends at 2040-06-30T22:00:00Z
notice:     otherkey.notice: REFUSED: $N/otherkey.notice: not signed by the issuer's key
notice:     otherproto.notice: REFUSED: $N/otherproto.notice: the notice is for another protocol
notice:     prefix.notice: REFUSED: $N/prefix.notice: the notice is for another protocol
notice:     truncated.notice: REFUSED: $N/truncated.notice: not a protocolfs termination notice"
same check_next_is_notice "$("$PFS" check city.ini | grep '^next:')" "next:       no record is due to disappear"
# a [dataset] notices folder elsewhere is the one read
mkdir -p elsewhere
cp leap.notice elsewhere/
sed 's/^state_dir = state$/state_dir = state\nnotices = elsewhere/' city.ini >city2.ini && chmod 600 city2.ini
same check_notices_key "$("$PFS" check city2.ini | grep '^notice:')" "notice:     leap.notice: the protocol ends at 2040-02-28T23:00:00Z"
exit $FAILED
