#!/bin/bash
# keys.sh — `protocolfs keygen`, key files, passphrases, key mix-ups, damaged keys,
# and the command line's usage errors and --help.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"

W=$T/w
mkdir -p "$W"
cd "$W" || exit 2

HDR='dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op'
printf '%s\n' "$HDR" 'A1;Jan;Peeters;Kerkstraat 1;0470123456;jan@example.be;nl;A1;bezig;2021-09-01' \
	'B2;Mie;Janssens;Bruul 2;0471654321;mie@example.be;fr;A2;klaar;2021-10-01' >two.csv

# seal_with ISSUER_KEY RECIPIENT_PUB [more options] — seal two.csv into out.pfs.
seal_with() {
	local ik=$1 rp=$2
	shift 2
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key "$ik" --recipient "$rp" --serial 1 "$@" two.csv out.pfs
}

# ------------------------------------------------------------ generating keys

run_ok "keygen issuer: says what it wrote" "wrote agency.pub and agency.key (issuer key)" \
	bash -c "umask 000; exec \"$PFS\" keygen issuer agency"
run_ok "keygen recipient: says what it wrote" "wrote city.pub and city.key (recipient key)" \
	bash -c "umask 077; exec \"$PFS\" keygen recipient city"

same "keygen issuer (umask 000): secret key mode 0600" "$(stat -c %a agency.key)" 600
same "keygen issuer (umask 000): public key mode 0644" "$(stat -c %a agency.pub)" 644
same "keygen recipient (umask 077): secret key mode 0600" "$(stat -c %a city.key)" 600
same "keygen recipient (umask 077): public key mode 0644" "$(stat -c %a city.pub)" 644

same "issuer public key: comment line" "$(sed -n 1p agency.pub)" "protocolfs issuer public key: agency"
same "issuer secret key: comment line" "$(sed -n 1p agency.key)" "protocolfs issuer secret key: agency"
same "recipient public key: comment line" "$(sed -n 1p city.pub)" "protocolfs recipient public key: city"
same "recipient secret key: comment line" "$(sed -n 1p city.key)" "protocolfs recipient secret key: city"
same "key files are two lines each" "$(cat agency.pub agency.key city.pub city.key | wc -l)" 8

# Blob layout (include/keys.h): "PF" kind 'P'/'S', key id, ...
pub_i=$(key_blob_hex agency.pub)
sec_i=$(key_blob_hex agency.key)
pub_r=$(key_blob_hex city.pub)
sec_r=$(key_blob_hex city.key)
same "issuer public blob: PFIP and 44 bytes" "${pub_i:0:8} ${#pub_i}" "50464950 88"
same "issuer secret blob: PFIS, no kdf, 133 bytes" "${sec_i:0:10} ${#sec_i}" "504649534e 266"
same "recipient public blob: PFRP and 44 bytes" "${pub_r:0:8} ${#pub_r}" "50465250 88"
same "recipient secret blob: PFRS, no kdf, 133 bytes" "${sec_r:0:10} ${#sec_r}" "504652534e 266"
same "issuer pair: same key id in both files" "${sec_i:10:16}" "${pub_i:8:16}"
same "recipient pair: same key id in both files" "${sec_r:10:16}" "${pub_r:8:16}"
ok_if "two key pairs have different key ids" "both $(key_id agency.pub)" \
	[ "$(key_id agency.pub)" != "$(key_id city.pub)" ]

mkdir sub
run_ok "keygen NAME in a folder: writes there" "wrote sub/office.pub and sub/office.key (issuer key)" \
	"$PFS" keygen issuer sub/office
same "keygen NAME in a folder: comment names the base name" \
	"$(sed -n 1p sub/office.pub)|$(sed -n 1p sub/office.key)" \
	"protocolfs issuer public key: office|protocolfs issuer secret key: office"
run_ok "keygen -- lets NAME start with a dash" "wrote -dash.pub and -dash.key (recipient key)" \
	"$PFS" keygen recipient -- -dash

# ------------------------------------------------------------ overwriting

refuse "keygen refuses to overwrite an existing pair" 2 \
	"protocolfs: keygen: agency.key: key file exists (use --force to overwrite)" \
	"$W" "$PFS" keygen issuer agency
refuse "keygen refuses to overwrite with the other kind" 2 \
	"protocolfs: keygen: agency.key: key file exists (use --force to overwrite)" \
	"$W" "$PFS" keygen recipient agency

"$PFS" keygen issuer solo >/dev/null && rm solo.key
refuse "keygen refuses when only NAME.pub exists (no NAME.key created)" 2 \
	"protocolfs: keygen: solo.pub: key file exists (use --force to overwrite)" \
	"$W" "$PFS" keygen issuer solo
"$PFS" keygen issuer solo2 >/dev/null && rm solo2.pub
refuse "keygen refuses when only NAME.key exists (no NAME.pub created)" 2 \
	"protocolfs: keygen: solo2.key: key file exists (use --force to overwrite)" \
	"$W" "$PFS" keygen issuer solo2

cp agency.pub agency.pub.orig
cp agency.key agency.key.orig
chmod 644 agency.key # --force must not keep a loosened mode
run_ok "keygen --force overwrites" "wrote agency.pub and agency.key (issuer key)" \
	"$PFS" keygen issuer agency --force
ok_if "keygen --force: a new public key" "unchanged" not cmp -s agency.pub agency.pub.orig
ok_if "keygen --force: a new secret key" "unchanged" not cmp -s agency.key agency.key.orig
same "keygen --force: modes 0644 and 0600" "$(stat -c %a agency.pub) $(stat -c %a agency.key)" "644 600"
pub_i=$(key_blob_hex agency.pub)
sec_i=$(key_blob_hex agency.key)
same "keygen --force: the new pair matches" "${sec_i:10:16}" "${pub_i:8:16}"
ok_if "keygen --force: no temporary file left" "$(ls)" [ -z "$(ls -a | grep '\.tmp\.')" ]

# If NAME.pub cannot be written, the existing pair must survive (the secret key is
# the agency's identity; losing it is not recoverable). NAME.pub is made a folder
# here so that replacing it fails.
mkdir fk && (cd fk && "$PFS" keygen issuer k >/dev/null && rm k.pub && mkdir -p k.pub/x)
refuse "keygen --force keeps the old secret key when NAME.pub cannot be replaced" 2 \
	"protocolfs: keygen: fk/k.pub: exists and is not a regular file" \
	"$W/fk" "$PFS" keygen issuer fk/k --force

# ------------------------------------------------------------ passphrases

printf 'correct horse battery\n' >pass
printf 'correct horse battery' >pass.nonl
printf 'correct horse battery\r\nsecond line\n' >pass.crlf
printf 'Correct horse battery\n' >wrong.pass
: >empty.pass

run_ok "keygen --passphrase-file: says so" "wrote prot.pub and prot.key (issuer key, passphrase-protected)" \
	"$PFS" keygen issuer prot --passphrase-file pass
same "protected secret key: comment says passphrase-protected" "$(sed -n 1p prot.key)" \
	"protocolfs issuer secret key: prot (passphrase-protected)"
same "protected pair: public key comment unchanged" "$(sed -n 1p prot.pub)" "protocolfs issuer public key: prot"
same "protected pair: modes 0644 and 0600" "$(stat -c %a prot.pub) $(stat -c %a prot.key)" "644 600"
sec_p=$(key_blob_hex prot.key)
same "protected secret blob: kdf A (Argon2id) and 149 bytes" "${sec_p:0:10} ${#sec_p}" "5046495341 298"
run_ok "keygen recipient --passphrase-file=F form" "wrote rprot.pub and rprot.key (recipient key, passphrase-protected)" \
	"$PFS" keygen recipient rprot --passphrase-file=pass
same "protected recipient key: comment" "$(sed -n 1p rprot.key)" \
	"protocolfs recipient secret key: rprot (passphrase-protected)"

refuse "keygen with an empty passphrase file writes nothing" 2 \
	"protocolfs: keygen: empty.pass: empty passphrase" "$W" "$PFS" keygen issuer p2 --passphrase-file empty.pass
refuse "keygen with a missing passphrase file writes nothing" 2 \
	"protocolfs: keygen: nope.pass: No such file or directory" "$W" "$PFS" keygen issuer p2 --passphrase-file nope.pass

refuse "seal with a protected key and no --passphrase-file" 2 \
	"protocolfs: seal: prot.key: key is passphrase-protected: give --passphrase-file" \
	"$W" seal_with prot.key city.pub
refuse "seal with a protected key and the wrong passphrase" 2 \
	"protocolfs: seal: prot.key: wrong passphrase (or damaged key file)" \
	"$W" seal_with prot.key city.pub --passphrase-file wrong.pass
refuse "seal with a protected key and an empty passphrase file" 2 \
	"protocolfs: seal: empty.pass: empty passphrase" \
	"$W" seal_with prot.key city.pub --passphrase-file empty.pass
refuse "seal with a protected key and a missing passphrase file" 2 \
	"protocolfs: seal: nope.pass: No such file or directory" \
	"$W" seal_with prot.key city.pub --passphrase-file nope.pass
run_ok "seal with a protected key and the right passphrase" "sealed 2 records into out.pfs (serial 1)" \
	seal_with prot.key city.pub --passphrase-file pass
run_exact "dataset sealed with a protected key verifies against its public key" 0 "" "" "$W" \
	bash -c "\"$PFS\" inspect --issuer prot.pub out.pfs | grep -x 'signature:  verified' >/dev/null"
rm -f out.pfs
run_ok "passphrase file: a missing final newline is the same passphrase" "sealed 2 records into out.pfs (serial 1)" \
	seal_with prot.key city.pub --passphrase-file pass.nonl
rm -f out.pfs
run_ok "passphrase file: only the first line counts, CRLF too" "sealed 2 records into out.pfs (serial 1)" \
	seal_with prot.key city.pub --passphrase-file pass.crlf
rm -f out.pfs
key_flip prot.key prot-damaged.key 100
refuse "protected key with a damaged box: wrong passphrase or damaged" 2 \
	"protocolfs: seal: prot-damaged.key: wrong passphrase (or damaged key file)" \
	"$W" seal_with prot-damaged.key city.pub --passphrase-file pass

# ------------------------------------------------------------ the wrong key in the wrong place

run_ok "seal with the right keys works" "sealed 2 records into good.pfs (serial 1)" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 1 two.csv good.pfs

refuse "seal --issuer-key given the issuer's public key" 2 \
	"protocolfs: seal: agency.pub: this is an issuer public key; a secret key is needed here" \
	"$W" seal_with agency.pub city.pub
refuse "seal --issuer-key given the recipient's public key" 2 \
	"protocolfs: seal: city.pub: this is a recipient public key; a secret key is needed here" \
	"$W" seal_with city.pub city.pub
refuse "seal --issuer-key given a recipient secret key" 2 \
	"protocolfs: seal: city.key: this is a recipient key; an issuer key is needed here" \
	"$W" seal_with city.key city.pub
refuse "seal --recipient given the recipient's secret key" 2 \
	"protocolfs: seal: city.key: this is a recipient secret key; a public key is needed here" \
	"$W" seal_with agency.key city.key
refuse "seal --recipient given an issuer public key" 2 \
	"protocolfs: seal: agency.pub: this is an issuer key; a recipient key is needed here" \
	"$W" seal_with agency.key agency.pub
refuse "seal --recipient given an issuer secret key" 2 \
	"protocolfs: seal: agency.key: this is an issuer secret key; a public key is needed here" \
	"$W" seal_with agency.key agency.key
refuse "inspect --issuer given a recipient public key" 2 \
	"protocolfs: inspect: city.pub: this is a recipient key; an issuer key is needed here" \
	"$W" "$PFS" inspect --issuer city.pub good.pfs
refuse "inspect --issuer given the issuer's secret key" 2 \
	"protocolfs: inspect: agency.key: this is an issuer secret key; a public key is needed here" \
	"$W" "$PFS" inspect --issuer agency.key good.pfs

# ------------------------------------------------------------ damaged key files

{
	sed -n 1p agency.key
	echo '!!not*base64@@'
} >garbage.key
{
	sed -n 1p agency.pub
	echo '!!not*base64@@'
} >garbage.pub
{
	sed -n 1p agency.key
	sed -n 2p agency.key | cut -c1-40
} >short.key
{
	sed -n 1p agency.pub
	sed -n 2p agency.pub | cut -c1-40
} >short.pub
head -c 60 agency.key >cut.key
sed -n 1p agency.key >oneline.key
: >empty.key
printf 'hello\nworld\n' >text.key
sed '1s/.*/# some other tool/' agency.key >othercomment.key
key_flip agency.pub pk-damaged.pub 20       # a byte of the public key itself
key_flip agency.key pkhalf-damaged.key 110  # a byte of the public half of the Ed25519 secret
key_flip agency.key seed-damaged.key 75     # a byte of the Ed25519 seed
key_flip city.key x25519-damaged.key 75     # a byte of the X25519 secret
key_flip agency.pub kind.pub 2              # kind 'I' -> 'H'

refuse "secret key: garbage base64" 2 "protocolfs: seal: garbage.key: line 2: not a valid protocolfs key" \
	"$W" seal_with garbage.key city.pub
refuse "public key: garbage base64" 2 "protocolfs: seal: garbage.pub: line 2: not a valid protocolfs key" \
	"$W" seal_with agency.key garbage.pub
refuse "inspect: public key with garbage base64" 2 \
	"protocolfs: inspect: garbage.pub: line 2: not a valid protocolfs key" \
	"$W" "$PFS" inspect --issuer garbage.pub good.pfs
refuse "secret key: truncated base64" 2 "protocolfs: seal: short.key: line 2: malformed secret key" \
	"$W" seal_with short.key city.pub
refuse "public key: truncated base64" 2 "protocolfs: inspect: short.pub: line 2: wrong length for a public key" \
	"$W" "$PFS" inspect --issuer short.pub good.pfs
refuse "secret key: file cut in line 2" 2 "protocolfs: seal: cut.key: line 2: not a valid protocolfs key" \
	"$W" seal_with cut.key city.pub
refuse "secret key: comment line only" 2 "protocolfs: seal: oneline.key: line 2: not a valid protocolfs key" \
	"$W" seal_with oneline.key city.pub
refuse "secret key: empty file" 2 "protocolfs: seal: empty.key: not a protocolfs key file (line 1)" \
	"$W" seal_with empty.key city.pub
refuse "secret key: a text file" 2 "protocolfs: seal: text.key: not a protocolfs key file (line 1)" \
	"$W" seal_with text.key city.pub
refuse "secret key: foreign comment line" 2 "protocolfs: seal: othercomment.key: not a protocolfs key file (line 1)" \
	"$W" seal_with othercomment.key city.pub
refuse "secret key: missing file" 2 "protocolfs: seal: nope.key: No such file or directory" \
	"$W" seal_with nope.key city.pub
refuse "public key: missing file" 2 "protocolfs: inspect: nope.pub: No such file or directory" \
	"$W" "$PFS" inspect --issuer nope.pub good.pfs
refuse "public key: a folder" 2 "protocolfs: inspect: sub: not a regular file" \
	"$W" "$PFS" inspect --issuer sub good.pfs
refuse "public key: one key byte flipped" 2 \
	"protocolfs: inspect: pk-damaged.pub: key id does not match the key (damaged file)" \
	"$W" "$PFS" inspect --issuer pk-damaged.pub good.pfs
refuse "public key: unknown kind byte" 2 "protocolfs: inspect: kind.pub: line 2: unknown key kind" \
	"$W" "$PFS" inspect --issuer kind.pub good.pfs
refuse "issuer secret key: public half damaged" 2 \
	"protocolfs: seal: pkhalf-damaged.key: key id does not match the key (damaged file)" \
	"$W" seal_with pkhalf-damaged.key city.pub
# The seed is what signs: a damaged seed must be caught when the key is loaded, as a
# damaged key file (exit 2), not found later as a dataset that fails to verify.
refuse "issuer secret key: seed damaged" 2 \
	"protocolfs: seal: seed-damaged.key: key id does not match the key (damaged file)" \
	"$W" seal_with seed-damaged.key city.pub

# ------------------------------------------------------------ command line

refuse "keygen: bad kind" 2 'protocolfs: keygen: key kind must be issuer or recipient, not "foo"' \
	"$W" "$PFS" keygen foo x
refuse "keygen: no arguments" 2 "protocolfs: keygen: missing arguments (see protocolfs keygen --help)" \
	"$W" "$PFS" keygen
refuse "keygen: missing NAME" 2 "protocolfs: keygen: missing arguments (see protocolfs keygen --help)" \
	"$W" "$PFS" keygen issuer
refuse "keygen: one argument too many" 2 "protocolfs: keygen: unexpected argument (see protocolfs keygen --help)" \
	"$W" "$PFS" keygen issuer x y
refuse "keygen: unknown option" 2 "protocolfs: keygen: unknown option --bogus (see protocolfs keygen --help)" \
	"$W" "$PFS" keygen --bogus issuer x
refuse "keygen: unknown short option" 2 "protocolfs: keygen: unknown option -f (see protocolfs keygen --help)" \
	"$W" "$PFS" keygen -f issuer x
refuse "keygen: option given twice" 2 "protocolfs: keygen: option --force given twice" \
	"$W" "$PFS" keygen issuer x --force --force
refuse "keygen: option missing its value" 2 "protocolfs: keygen: option --passphrase-file needs a value" \
	"$W" "$PFS" keygen issuer x --passphrase-file
refuse "keygen: flag given a value" 2 "protocolfs: keygen: option --force takes no value" \
	"$W" "$PFS" keygen issuer x --force=yes
refuse "seal: option given twice" 2 "protocolfs: seal: option --serial given twice" \
	"$W" "$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 1 --serial 2 two.csv new.pfs
refuse "seal: unknown option" 2 "protocolfs: seal: unknown option --issuer (see protocolfs seal --help)" \
	"$W" "$PFS" seal --protocol "$PROTOCOL" --issuer agency.key --recipient city.pub --serial 1 two.csv new.pfs
refuse "seal: option missing its value" 2 "protocolfs: seal: option --recipient needs a value" \
	"$W" "$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --serial 1 two.csv new.pfs --recipient
refuse "seal: no arguments" 2 "protocolfs: seal: missing arguments (see protocolfs seal --help)" \
	"$W" "$PFS" seal
refuse "inspect: option given twice" 2 "protocolfs: inspect: option --issuer given twice" \
	"$W" "$PFS" inspect --issuer agency.pub --issuer agency.pub good.pfs
refuse "inspect: option missing its value" 2 "protocolfs: inspect: option --issuer needs a value" \
	"$W" "$PFS" inspect good.pfs --issuer
refuse "inspect: no dataset" 2 "protocolfs: inspect: missing arguments (see protocolfs inspect --help)" \
	"$W" "$PFS" inspect
refuse "inspect: two datasets" 2 "protocolfs: inspect: unexpected argument (see protocolfs inspect --help)" \
	"$W" "$PFS" inspect good.pfs good.pfs
refuse "inspect: unknown option" 2 "protocolfs: inspect: unknown option --verbose (see protocolfs inspect --help)" \
	"$W" "$PFS" inspect --verbose good.pfs
refuse "unknown command" 2 'protocolfs: unknown command "keys" (see protocolfs --help)' \
	"$W" "$PFS" keys

# The main usage grows with every command; it must start with these lines and list
# these three commands exactly.
MAIN_HEAD='usage: protocolfs COMMAND [ARGS]   (protocolfs COMMAND --help for details)

protocolfs serves personal records shared under a GDPR data-sharing protocol.

commands:'
MAIN_CMDS='  keygen     make an issuer (agency) or recipient (city) key pair
  seal       seal the agency'"'"'s CSV export into a signed, encrypted dataset
  inspect    print a dataset'"'"'s signed header and verify it'
# main_usage NAME WANT_RC STREAM(out|err) ARGS... — protocolfs ARGS prints the main
# usage on STREAM, nothing on the other, and exits WANT_RC.
main_usage() {
	local name=$1 want_rc=$2 stream=$3 rc usage other
	shift 3
	"$PFS" "$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$stream" = out ]; then usage=$T/.out other=$T/.err; else usage=$T/.err other=$T/.out; fi
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc"
	elif [ -s "$other" ]; then
		fail "$name" "unexpected output on the other stream: $(cat "$other")"
	elif [ "$(head -5 "$usage")" != "$MAIN_HEAD" ]; then
		fail "$name" "usage starts '$(head -5 "$usage")'"
	elif [ "$(grep -E '^  (keygen|seal|inspect) ' "$usage")" != "$MAIN_CMDS" ]; then
		fail "$name" "command lines: '$(grep '^  ' "$usage")'"
	elif grep -qvE '^(usage: |protocolfs serves |commands:$|$|  [a-z]+ +[^ ])' "$usage"; then
		fail "$name" "unexpected line: $(grep -vE '^(usage: |protocolfs serves |commands:$|$|  [a-z]+ +[^ ])' "$usage")"
	else
		pass "$name"
	fi
}
KEYGEN_USAGE='usage: protocolfs keygen issuer|recipient NAME [--passphrase-file F] [--force]

Write NAME.pub and NAME.key (mode 0600). issuer: the agency'"'"'s Ed25519 signing key.
recipient: the city'"'"'s X25519 decryption key. --passphrase-file protects the secret
key with Argon2id; --force overwrites existing files.'
SEAL_USAGE='usage: protocolfs seal --protocol P.ini --issuer-key I.key --recipient R.pub
                       --serial N [--passphrase-file F] [--force] EXPORT.csv OUT.pfs

Check the agency'"'"'s CSV export against the protocol definition and write a dataset
signed with the issuer key and encrypted to the recipient. Nothing is written when
any row is refused. --force overwrites an existing OUT.pfs.'
INSPECT_USAGE='usage: protocolfs inspect [--issuer I.pub] DATASET.pfs

Print the dataset'"'"'s signed header and record counts, and check it whole. Exit 0
only when the issuer'"'"'s signature verifies (which needs --issuer). Never prints
personal data.'

main_usage "protocolfs --help" 0 out --help
main_usage "protocolfs -h" 0 out -h
main_usage "protocolfs help" 0 out help
main_usage "protocolfs without a command: usage on stderr, exit 2" 2 err
run_exact "keygen --help" 0 "$KEYGEN_USAGE" "" "$W" "$PFS" keygen --help
run_exact "keygen -h" 0 "$KEYGEN_USAGE" "" "$W" "$PFS" keygen -h
run_exact "keygen --help among other arguments writes no key" 0 "$KEYGEN_USAGE" "" "$W" \
	"$PFS" keygen issuer helpme --help
run_exact "seal --help" 0 "$SEAL_USAGE" "" "$W" "$PFS" seal --help
run_exact "seal --help among other arguments seals nothing" 0 "$SEAL_USAGE" "" "$W" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 1 two.csv new.pfs --help
run_exact "inspect --help" 0 "$INSPECT_USAGE" "" "$W" "$PFS" inspect --help

exit $FAILED
