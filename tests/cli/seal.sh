#!/bin/bash
# seal.sh — `protocolfs seal`: the CSV dialects Belgian Excel writes are accepted;
# every bad export, protocol definition or argument is refused with one message
# naming file:line:column (or file, section and key), exit 2, and nothing written.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib/helpers.bash"

W=$T/w
mkdir -p "$W"
cd "$W" || exit 2
"$PFS" keygen issuer agency >/dev/null && "$PFS" keygen recipient city >/dev/null || {
	fail "setup" "keygen failed"
	exit 1
}

H='dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op'
HC=${H//;/,}
# row ID DATE — a plain record with ';'.
row() { printf '%s;Jan;Peeters;Kerkstraat 1;0470123456;jan@example.be;nl;A1;bezig;%s\n' "$1" "${2-2021-09-01}"; }

# seal_csv CSV OUT [more options] — seal with the seed protocol, serial 1.
seal_csv() {
	local csv=$1 out=$2
	shift 2
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 1 "$@" "$csv" "$out"
}

# accepted NAME N DEADLINES — x.csv (written by the caller) seals into ok.pfs with
# N records, and inspect --issuer verifies it and reports N present records and
# the given deadlines line (the retention deadlines show that each row's
# shared_on column was read from the right place).
accepted() {
	local name=$1 n=$2 deadlines=$3 rc got noun=records
	[ "$n" = 1 ] && noun=record
	rm -f ok.pfs
	seal_csv x.csv ok.pfs >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" != 0 ] || ! _stream_is "$T/.err" "" ||
		! _stream_is "$T/.out" "sealed $n $noun into ok.pfs (serial 1)"; then
		fail "$name" "seal exit $rc, stdout '$(cat "$T/.out")', stderr '$(cat "$T/.err")'"
		return
	fi
	got=$("$PFS" inspect --issuer agency.pub ok.pfs 2>&1)
	rc=$?
	got=$(echo "$got" | grep -E '^(records|deadlines|signature):')
	want="records:    $n ($n present, 0 purged)
deadlines:  $deadlines
signature:  verified"
	if [ "$rc" != 0 ] || [ "$got" != "$want" ]; then
		fail "$name" "inspect exit $rc: '$got', want '$want'"
	else
		pass "$name"
	fi
	rm -f ok.pfs
}

# bad NAME MESSAGE — sealing x.csv is refused: exit 2, stderr exactly
# "protocolfs: seal: MESSAGE", no stdout, and the folder untouched (no out.pfs,
# no temporary file).
bad() {
	refuse "$1" 2 "protocolfs: seal: $2" "$W" seal_csv x.csv out.pfs
}

# ------------------------------------------------------------ accepted dialects

{
	echo "$H"
	row A1 2021-07-01
	row B2 2022-06-30
} >x.csv
accepted "';' separator, LF, no BOM" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '\xef\xbb\xbf%s\r\nA1;Jan;Peeters;Kerkstraat 1;0470;j@x.be;nl;A1;bezig;2021-07-01\r\nB2;Mie;Janssens;Bruul 2;0471;m@x.be;fr;A2;klaar;2022-06-30\r\n' "$H" >x.csv
accepted "';' separator, UTF-8 BOM, CRLF (Excel)" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '%s\nA1,Jan,Peeters,Kerkstraat 1,0470,j@x.be,nl,A1,bezig,2021-07-01\nB2,Mie,Janssens,Bruul 2;bus 3,0471,m@x.be,fr,A2,klaar,2022-06-30\n' "$HC" >x.csv
accepted "',' separator, LF (a ';' in a field is data)" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '\xef\xbb\xbf%s\r\nA1,Jan,Peeters,Kerkstraat 1,0470,j@x.be,nl,A1,bezig,2021-08-15\r\n' "$HC" >x.csv
accepted "',' separator, BOM, CRLF" 1 "2026-08-15 (earliest) to 2026-08-15 (latest)"

printf '%s\nA1;Jan;Peeters;"Kerkstraat 1; bus 2";0470;j@x.be;nl;A1;bezig;2021-07-01\nB2;Mie;Janssens;"a;b;c;d";0471;m@x.be;fr;A2;klaar;2022-06-30\n' "$H" >x.csv
accepted "quoted fields holding ';'" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '%s\nA1,Jan,Peeters,"Kerkstraat 1, bus 2",0470,j@x.be,nl,A1,bezig,2021-07-01\nB2,Mie,Janssens,",,,",0471,m@x.be,fr,A2,klaar,2022-06-30\n' "$HC" >x.csv
accepted "quoted fields holding ','" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '%s\nA1;"Jan ""Jantje""";Peeters;"""";0470;j@x.be;nl;A1;"zegt ""ja"" ; ""nee""";2021-07-01\nB2;Mie;Janssens;"";0471;m@x.be;fr;A2;klaar;2022-06-30\n' "$H" >x.csv
accepted "doubled quotes inside quoted fields" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '%s\nA1;Jan;Peeters;"Kerkstraat 1\n2800 Mechelen";0470;j@x.be;nl;A1;"regel 1\n\nregel 3";2021-07-01\nB2;Mie;Janssens;Bruul 2;0471;m@x.be;fr;A2;klaar;2022-06-30\n' "$H" >x.csv
accepted "quoted fields holding LF line breaks" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '\xef\xbb\xbf%s\r\nA1;Jan;Peeters;"Kerkstraat 1\r\n2800 Mechelen";0470;j@x.be;nl;A1;bezig;2021-07-01\r\nB2;Mie;Janssens;Bruul 2;0471;m@x.be;fr;A2;klaar;2022-06-30\r\n' "$H" >x.csv
accepted "quoted field holding a CRLF line break in a CRLF file" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '"gedeeld_op";"status_mo";voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;"dossiernummer"\n2021-07-02;bezig;Jan;Peeters;x;0470;j@x.be;nl;A1;A1\n' >x.csv
accepted "columns in another order, quoted header names" 1 "2026-07-02 (earliest) to 2026-07-02 (latest)"

printf '%s\nA1;Jan;Peeters;x;0470;j@x.be;nl;A1;bezig;2021-07-01\nB2;Mie;Janssens;x;0471;m@x.be;fr;A2;klaar;2022-06-30' "$H" >x.csv
accepted "no line break after the last row" 2 "2026-07-01 (earliest) to 2027-06-30 (latest)"

printf '%s\r\nA1;Jan;Peeters;x;0470;j@x.be;nl;A1;bezig;2021-07-01\r\n\r\n\r\n' "$H" >x.csv
accepted "blank lines at the very end are ignored" 1 "2026-07-01 (earliest) to 2026-07-01 (latest)"

printf '%s\nA1;Jos\xc3\xa9;Fran\xc3\xa7ois;\xe2\x82\xac 5 \xf0\x9f\x8f\xa0;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
accepted "UTF-8 of 2, 3 and 4 bytes" 1 "2026-09-01 (earliest) to 2026-09-01 (latest)"

{
	echo "$H"
	row "$(printf 'a%.0s' {1..64})"
	row "a.b_c-D9"
	row "0"
	row "a1"
	row "A1"
} >x.csv
accepted "ids: 64 characters, '.', '_', '-', digits; case matters" 5 "2026-09-01 (earliest) to 2026-09-01 (latest)"

{
	echo "$H"
	row A1 2021-07-01
	row A2 2022-06-30
	row A3 2022-02-28
	row A4 2021-12-31
} >x.csv
accepted "the window's first and last day are inside it" 4 "2026-07-01 (earliest) to 2027-06-30 (latest)"

# A header-only export seals an empty dataset (0 records, exit 0): the agency may
# legitimately have no one to share (every consent withdrawn).
printf '%s\r\n' "$H" >x.csv
accepted "header only: an empty dataset" 0 "none (no records present)"

# No shared_on column: records are shared on the seal date, which must be inside
# the window (a civil date in Europe/Brussels, whatever the machine's zone).
cut -d';' -f1-9 <<<"$H" >x.csv
row A1 | cut -d';' -f1-9 >>x.csv
bad "no shared_on column, and today (after the protocol) outside the window" \
	"x.csv:2: no shared_on column, and today is outside the protocol window"
if command -v faketime >/dev/null; then
	rm -f ok.pfs
	run_ok "no shared_on column: 00:00 on 1 July 2021 in Brussels is inside" \
		"sealed 1 record into ok.pfs (serial 1)" \
		env TZ=UTC faketime -f '2021-06-30 22:00:00' "$PFS" seal --protocol "$PROTOCOL" \
		--issuer-key agency.key --recipient city.pub --serial 1 x.csv ok.pfs
	same "no shared_on column: shared on the Brussels date" \
		"$("$PFS" inspect --issuer agency.pub ok.pfs 2>&1 | grep -E '^(issued|deadlines):')" \
		"issued:     2021-06-30T22:00:00Z
deadlines:  2026-07-01 (earliest) to 2026-07-01 (latest)"
	rm -f ok.pfs
	refuse "no shared_on column: 23:59:59 on 30 June 2021 in Brussels is outside" 2 \
		"protocolfs: seal: x.csv:2: no shared_on column, and today is outside the protocol window" \
		"$W" env TZ=UTC faketime -f '2021-06-30 21:59:59' "$PFS" seal --protocol "$PROTOCOL" \
		--issuer-key agency.key --recipient city.pub --serial 1 x.csv ok.pfs
	rm -f ok.pfs
	run_ok "no shared_on column: 23:59:59 on 30 June 2022 in Brussels is inside" \
		"sealed 1 record into ok.pfs (serial 1)" \
		env TZ=Asia/Tokyo faketime -f '2022-07-01 06:59:59' "$PFS" seal --protocol "$PROTOCOL" \
		--issuer-key agency.key --recipient city.pub --serial 1 x.csv ok.pfs
	rm -f ok.pfs
	refuse "no shared_on column: 00:00 on 1 July 2022 in Brussels is outside" 2 \
		"protocolfs: seal: x.csv:2: no shared_on column, and today is outside the protocol window" \
		"$W" env TZ=Asia/Tokyo faketime -f '2022-07-01 07:00:00' "$PFS" seal --protocol "$PROTOCOL" \
		--issuer-key agency.key --recipient city.pub --serial 1 x.csv ok.pfs
else
	fail "no shared_on column (faketime)" "faketime is not installed (make deps)"
fi

# ------------------------------------------------------------ refused exports

{ echo "$H;geboortedatum"; row A1 | sed 's/$/;1990-01-01/'; } >x.csv
bad "a column the protocol does not list (last)" \
	"x.csv:1:11: column \"geboortedatum\" is not listed in the protocol (Art. 3, data minimisation)"
printf 'dossiernummer;rijksregisternummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\nA1;x;x;x;x;x;x;x;x;x;2021-09-01\n' >x.csv
bad "a column the protocol does not list (second)" \
	"x.csv:1:2: column \"rijksregisternummer\" is not listed in the protocol (Art. 3, data minimisation)"
printf '\xef\xbb\xbfdossiernummer;Voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\r\n' >x.csv
bad "column headers are matched exactly (case)" \
	"x.csv:1:2: column \"Voornaam\" is not listed in the protocol (Art. 3, data minimisation)"
{ echo "${H/dossiernummer;/}"; row A1 | cut -d';' -f2-; } >x.csv
bad "no id column" 'x.csv:1: no id column ("dossiernummer")'
{ echo "${H/;email/}"; row A1 | cut -d';' -f1-5,7-; } >x.csv
bad "a protocol field without its column" 'x.csv:1: no column "email" for field email'
{ echo "$H;voornaam"; row A1 | sed 's/$/;Jan/'; } >x.csv
bad "a column twice" 'x.csv:1:11: column "voornaam" appears twice'
long=$(printf 'kolom_%.0s' $(seq 1 20))
{ echo "$H;$long"; row A1 | sed 's/$/;x/'; } >x.csv
bad "a long refused header is cut" "x.csv:1:11: column \"$(printf '%.64s' "$long")...\" is not listed in the protocol (Art. 3, data minimisation)"
{ printf '%s;%s\n' "$H" '"a""b\c	d"'; row A1 | sed 's/$/;x/'; } >x.csv
bad "quotes, backslashes and tabs in a refused header are shown as ?" 'x.csv:1:11: column "a?b?c?d" is not listed in the protocol (Art. 3, data minimisation)'

{ echo "$H"; row A1; row ""; } >x.csv
bad "empty id" "x.csv:3:1: empty id"
{ echo "$H"; printf '"";Jan;Peeters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n'; } >x.csv
bad "empty quoted id" "x.csv:2:1: empty id"
printf '"gedeeld_op";voornaam;"dossiernummer";achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo\n2021-09-01;Jan;;x;x;x;x;x;x;x\n' >x.csv
bad "empty id in the third column" "x.csv:2:3: empty id"

IDMSG="id not of the form [A-Za-z0-9._-]{1,64} (not starting with '.')"
{ echo "$H"; row A1; row "A/1"; } >x.csv
bad "id with a '/'" "x.csv:3:1: $IDMSG"
{ echo "$H"; row "A 1"; } >x.csv
bad "id with a space" "x.csv:2:1: $IDMSG"
{ echo "$H"; row "Jos$(printf '\xc3\xa9')"; } >x.csv
bad "id with a non-ASCII letter" "x.csv:2:1: $IDMSG"
{ echo "$H"; row "$(printf 'a%.0s' {1..65})"; } >x.csv
bad "id of 65 characters" "x.csv:2:1: $IDMSG"
{ echo "$H"; row ".A1"; } >x.csv
bad "id starting with '.'" "x.csv:2:1: $IDMSG"
{ echo "$H"; row ".."; } >x.csv
bad "id '..'" "x.csv:2:1: $IDMSG"

{ echo "$H"; row A1; row B2; row A1; } >x.csv
bad "duplicate id: names both lines" "x.csv:4:1: duplicate id (first on line 2)"
{ echo "$H"; for i in {1..30}; do row D; done; } >x.csv
bad "duplicate id many times: the first two lines" "x.csv:3:1: duplicate id (first on line 2)"
printf '%s\nA1;Jan;Peeters;"Kerkstraat 1\n2800 Mechelen";0470;j@x.be;nl;A1;bezig;2021-07-01\nB2;"a\n\nb";x;x;x;x;x;x;x;2021-07-01\nA1;x;x;x;x;x;x;x;x;2021-07-01\n' "$H" >x.csv
bad "duplicate id: physical lines after multi-line fields" "x.csv:7:1: duplicate id (first on line 2)"

printf '%s\nA1;Jan;Pe\xffters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
bad "invalid UTF-8 (0xff)" "x.csv:2:3: invalid UTF-8"
printf '%s\nA1;Jan;Peeters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\nB2;x;Fran\xe7ois;x;x;x;x;x;x;2021-09-01\n' "$H" >x.csv
bad "invalid UTF-8 (a Windows-1252 export)" "x.csv:3:3: invalid UTF-8"
printf '%s\nA1;\xc0\xaf;x;x;x;x;x;x;x;2021-09-01\n' "$H" >x.csv
bad "invalid UTF-8 (overlong)" "x.csv:2:2: invalid UTF-8"
printf '%s\nA1;x;x;\xed\xa0\x80;x;x;x;x;x;2021-09-01\n' "$H" >x.csv
bad "invalid UTF-8 (surrogate)" "x.csv:2:4: invalid UTF-8"
printf '%s\nA1;x;x;x;x;x;x;x;x;2021-09-01\xe2\x82' "$H" >x.csv
bad "invalid UTF-8 (sequence cut at the end)" "x.csv:2:10: invalid UTF-8"
printf '%s\nA1;"a;\n\xf4\x90\x80\x80";x;x;x;x;x;x;x;2021-09-01\n' "$H" >x.csv
bad "invalid UTF-8 inside a multi-line quoted field" "x.csv:3:2: invalid UTF-8"
printf 'dossiernummer;voornaam;achternaam;adres;telefoon;e\xffmail;contacttaal;niveau_nederlands;status_mo;gedeeld_op\n' >x.csv
bad "invalid UTF-8 in the header" "x.csv:1:6: invalid UTF-8"
printf '%s\nA1;Jan;Pe\x00ters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
bad "a NUL byte" "x.csv:2:3: NUL byte"
printf '%s\nA1;x;x;x;x;x;x;x;x;2021-09-01\n\x00\n' "$H" >x.csv
bad "a NUL byte on a line of its own" "x.csv:3:1: NUL byte"

for d in 2022-02-30 2021-13-01 2021-09-00 2021-9-1 yesterday " 2021-09-01" "2021-09-01 " 01/09/2021 "" 2021-09-01T00:00; do
	{ echo "$H"; row A1; row B2 "$d"; } >x.csv
	bad "bad date '$d'" "x.csv:3:10: not a valid date (YYYY-MM-DD)"
done
for d in 2021-06-30 2022-07-01 1999-01-01; do
	{ echo "$H"; row A1; row B2 "$d"; } >x.csv
	bad "date outside the protocol window ($d)" "x.csv:3:10: date outside the protocol window"
done

{ echo "$H"; row A1; row B2 | cut -d';' -f1-9; } >x.csv
bad "a row with too few fields" "x.csv:3: 9 fields, header has 10"
{ echo "$H"; row A1 | sed 's/$/;extra/'; } >x.csv
bad "a row with too many fields" "x.csv:2: 11 fields, header has 10"
{ echo "$H"; row A1; echo; row B2; } >x.csv
bad "a blank line between rows" "x.csv:3: 1 field, header has 10"
{ echo "$HC"; row A1; } >x.csv
bad "rows with another separator than the header" "x.csv:2: 1 field, header has 10"

printf '%s\nA1;Jan;"Peeters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\nB2;x;x;x;x;x;x;x;x;2021-09-01\n' "$H" >x.csv
bad "unterminated quote" "x.csv:2:3: unterminated quote"
printf '%s\nA1;Jan;Pe"ters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
bad "a quote inside an unquoted field" "x.csv:2:3: stray quote in unquoted field"
printf '%s\nA1;Jan;"Pe"ters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
bad "text after a closing quote" "x.csv:2:3: text after closing quote"
printf '%s\nA1;Jan;Pe\rters;x;0470;j@x.be;nl;A1;bezig;2021-09-01\n' "$H" >x.csv
bad "a bare CR outside quotes" "x.csv:2:3: stray carriage return"

: >x.csv
bad "empty file" "x.csv: empty file"
printf '\xef\xbb\xbf' >x.csv
bad "a BOM and nothing else" "x.csv: empty file"
printf '\r\n\n\r\n' >x.csv
bad "line breaks only" "x.csv: empty file"
refuse "missing export" 2 "protocolfs: seal: nope.csv: No such file or directory" "$W" seal_csv nope.csv out.pfs
mkdir folder.csv
refuse "export is a folder" 2 "protocolfs: seal: folder.csv: not a regular file" "$W" seal_csv folder.csv out.pfs

# ------------------------------------------------------------ arguments

{ echo "$H"; row A1; row B2; } >x.csv
for s in 0 abc -1 1.5 +1 01 " 1" 18446744073709551616 ""; do
	refuse "--serial '$s' refused" 2 "protocolfs: seal: --serial: not a positive integer" "$W" \
		"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial "$s" x.csv out.pfs
done
REQ="protocolfs: seal: --protocol, --issuer-key, --recipient and --serial are required"
refuse "missing --protocol" 2 "$REQ" "$W" \
	"$PFS" seal --issuer-key agency.key --recipient city.pub --serial 1 x.csv out.pfs
refuse "missing --issuer-key" 2 "$REQ" "$W" \
	"$PFS" seal --protocol "$PROTOCOL" --recipient city.pub --serial 1 x.csv out.pfs
refuse "missing --recipient" 2 "$REQ" "$W" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --serial 1 x.csv out.pfs
refuse "missing --serial" 2 "$REQ" "$W" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub x.csv out.pfs
refuse "missing OUT" 2 "protocolfs: seal: missing arguments (see protocolfs seal --help)" "$W" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 1 x.csv
refuse "OUT in a folder that does not exist" 2 \
	"protocolfs: seal: nodir/out.pfs: cannot create temporary file: No such file or directory" "$W" \
	seal_csv x.csv nodir/out.pfs
rm -f big.pfs
run_ok "the largest serial" "sealed 2 records into big.pfs (serial 18446744073709551615)" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 18446744073709551615 x.csv big.pfs
rm -f big.pfs

# ------------------------------------------------------------ the output file

echo "an older dataset" >out.pfs
refuse "OUT exists: not replaced without --force" 2 \
	"protocolfs: seal: out.pfs: File exists (use --force to overwrite)" "$W" seal_csv x.csv out.pfs
{ echo "$H"; row A1; row A1; } >bad.csv
refuse "OUT exists, --force, bad export: OUT untouched" 2 \
	"protocolfs: seal: bad.csv:3:1: duplicate id (first on line 2)" "$W" seal_csv bad.csv out.pfs --force
refuse "OUT exists, --force, bad protocol: OUT untouched" 2 \
	"protocolfs: seal: nope.ini: No such file or directory" "$W" \
	"$PFS" seal --protocol nope.ini --issuer-key agency.key --recipient city.pub --serial 1 --force x.csv out.pfs
run_ok "OUT exists: replaced with --force" "sealed 2 records into out.pfs (serial 2)" \
	"$PFS" seal --protocol "$PROTOCOL" --issuer-key agency.key --recipient city.pub --serial 2 --force x.csv out.pfs
same "OUT replaced with --force: a dataset that verifies" \
	"$("$PFS" inspect --issuer agency.pub out.pfs 2>&1 | grep -E '^(serial|records|signature):')" \
	"serial:     2
records:    2 (2 present, 0 purged)
signature:  verified"
same "OUT replaced with --force: mode 0644, no temporary file" "$(stat -c %a out.pfs) $(ls | grep -c '\.tmp\.')" "644 0"
rm -f out.pfs

# ------------------------------------------------------------ protocol definition (INI)

# The seed protocol without its comments, as p0.ini; each case edits a copy.
grep -v '^[;[:space:]]*;' "$PROTOCOL" | grep -v '^[[:space:]]*$' >p0.ini
run_ok "the seed protocol without comments seals" "sealed 2 records into out.pfs (serial 1)" \
	"$PFS" seal --protocol p0.ini --issuer-key agency.key --recipient city.pub --serial 1 x.csv out.pfs
rm -f out.pfs

# badini NAME MESSAGE SED-SCRIPT — p.ini is p0.ini edited by SED-SCRIPT; sealing with
# it is refused with "protocolfs: seal: p.ini: MESSAGE".
badini() {
	sed "$3" p0.ini >p.ini
	refuse "$1" 2 "protocolfs: seal: p.ini: $2" "$W" \
		"$PFS" seal --protocol p.ini --issuer-key agency.key --recipient city.pub --serial 1 x.csv out.pfs
}
badini "INI: unknown section" "[retention]: unknown section" '$a [retention]\nyears = 5'
badini "INI: unknown empty section" "[profiles]: unknown section" '$a [profiles]'
badini "INI: unknown key in [protocol]" "[protocol] purpose: unknown key" '/^retention/a purpose = pilots'
for k in id issuer recipient start end timezone retention; do
	badini "INI: [protocol] $k missing" "[protocol] $k: missing" "/^$k *=/{/^id = dossier/!d}"
done
badini "INI: [protocol] end empty" "[protocol] end: missing" 's/^end = .*/end =/'
badini "INI: start not a date" "[protocol] start: not a date (YYYY-MM-DD)" 's/^start = .*/start = 2021-02-29/'
badini "INI: end not a date" "[protocol] end: not a date (YYYY-MM-DD)" 's/^end = .*/end = 30-06-2022/'
badini "INI: end before start" "[protocol] end: before start" 's/^end = .*/end = 2021-06-30/'
for r in 5x 0y 101y 1201m y 5 5Y " 5 y" -5y 5y5; do
	badini "INI: retention '$r'" "[protocol] retention: not Ny or Nm (1 to 1200 months)" "s/^retention = .*/retention = $r/"
done
for z in Europe/Mechelen Europe Brussels ../../../etc/passwd /usr/share/zoneinfo/Europe/Brussels; do
	badini "INI: unknown timezone '$z'" "[protocol] timezone: unknown time zone" "s|^timezone = .*|timezone = $z|"
done
badini "INI: [fields] id missing" "[fields] id: missing (the record id column is required)" '/^id = dossier/d'
badini "INI: [fields] id empty" "[fields] id: column header missing" 's/^id = dossier.*/id =/'
badini "INI: [fields] two fields on one column" "[fields] email: column header empty, too long, or used twice" \
	's/^email = .*/email = voornaam/'
badini "INI: [fields] bad field id" "[fields] e-mail: field id must be [a-z0-9_]{1,32}" 's/^email = /e-mail = /'
refuse "INI: missing file" 2 "protocolfs: seal: nope.ini: No such file or directory" "$W" \
	"$PFS" seal --protocol nope.ini --issuer-key agency.key --recipient city.pub --serial 1 x.csv out.pfs

exit $FAILED
