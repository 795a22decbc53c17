#!/bin/bash
# rest.sh — nothing identifiable at rest (issue 10): a dataset of 1,000 generated
# persons holds none of their ids or values (plain, lowercase, NFC, NFD), no hash
# of an id and no shared_on+id pair; the same after a purge, after which even the
# recipient's key recovers nothing of the purged persons: an independent reader
# (tests/cli/lib/pfs_rest.py, libsodium through ctypes) decrypts everything the
# file still holds and the purged persons are not in it. Positive controls: the
# same search finds the persons in the export, in the decrypted plaintext, and
# the ids in a format 1 file (tests/fixtures/dataset/format1.pfs), which this
# protocolfs refuses by name.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/../mount/py4/timelib.bash"
source "$(dirname "$0")/lib/helpers.bash"
REST="$TOP/tests/cli/lib/pfs_rest.py"
FIX="$TOP/tests/fixtures/dataset"
ft_init UTC
fixture_users
keys_make || {
	fail setup "keygen failed"
	exit 1
}
# the sample's shared_on dates lie in 2021-07..2022-06; a window to 2030 keeps the
# protocol in force at the purge below, so that only retention decides
make_protocol "$T/p.ini" 2021-07-01 2030-12-31 TEST-REST
"$SAMPLE" --seed 11 --count 1000 -o "$T/x.csv" && seal_csv "$T/p.ini" "$T/x.csv" "$T/dataset.pfs" 1 || {
	fail setup "sample or seal failed"
	exit 1
}
cp "$T/dataset.pfs" "$T/orig.pfs"
find_in() { $PY3 "$REST" find "$T/x.csv" "$1" --public "$T/p.ini" "${@:2}" | sed -n 1p | cut -d' ' -f1; }
n_strings() { $PY3 "$REST" find "$T/x.csv" "$T/x.csv" --public "$T/p.ini" "$@" | sed -n 1p | cut -d' ' -f3; }
ALL=$(n_strings)
ok_if "sample: 1,000 persons, at least 20,000 strings to look for" "$ALL strings" [ "$ALL" -ge 20000 ]
same "sealed: no id, value, hash of an id or shared_on+id pair in the file" \
	"$($PY3 "$REST" find "$T/x.csv" "$T/dataset.pfs" --public "$T/p.ini")" "0 of $ALL strings found"
# positive controls: the search sees the persons where they are
ok_if "control: the export itself holds every id" "$(find_in "$T/x.csv")" \
	[ "$(grep -c '^INB' "$T/x.csv")" = 1000 -a "$(find_in "$T/x.csv")" -ge 1000 ]
cp "$T/dataset.pfs" "$T/leak.pfs" && grep -m1 -o '^INB[0-9]*' "$T/x.csv" | tr -d '\n' >>"$T/leak.pfs"
same "control: one id appended to the file is found" "$(find_in "$T/leak.pfs")" 1
same "control: a format 1 file shows its ids" \
	"$($PY3 "$REST" find "$FIX/format1.csv" "$FIX/format1.pfs" --public "$T/p.ini" | sed -n 1p)" "3 of 71 strings found"
expect "control: the reader decrypts every record with the recipient key" 0 "" \
	$PY3 "$REST" decrypt "$T/city.key" "$T/dataset.pfs" "$T/plain-orig.txt"
same "control: the reader's count" "$(cat "$T/.out")" "present 1000, purged 0, decrypted 1000"
ids_in() { cut -f1 "$1" | LC_ALL=C sort; }
csv_ids() { $PY3 "$REST" ids "$T/x.csv" "$@"; }
same "control: the decrypted ids are exactly the export's" "$(ids_in "$T/plain-orig.txt")" "$(csv_ids)"

# ---- purge at 1 January 2027: the persons shared up to 2022-01-01 are past 5y
# (the deadline is the first day a record may no longer be kept)
cfg=$(make_config rest)
ft_set_bxl "2027-01-01 12:00:00"
PURGED=$(csv_ids --purged-before 2022-01-02 | wc -l)
KEPT=$((1000 - PURGED))
ok_if "sample: some persons to purge and some to keep" "$PURGED purged, $KEPT kept" \
	[ "$PURGED" -ge 100 -a "$KEPT" -ge 100 ]
expect purge_runs 0 "" ft_env "$PFS" purge "$cfg"
same purge_output "$(cat "$T/.out")" "purged $PURGED expired records from $T/dataset.pfs ($KEPT remain)"
same "purged file: still verifies under the issuer's signature" \
	"$("$PFS" inspect --issuer "$T/agii.pub" "$T/dataset.pfs" | grep -E '^(records|signature):')" \
	"records:    1000 ($KEPT present, $PURGED purged)
signature:  verified"
same "purged file: no id, value, hash or pair of anyone in the file" \
	"$($PY3 "$REST" find "$T/x.csv" "$T/dataset.pfs" --public "$T/p.ini")" "0 of $ALL strings found"
expect "purged file: the reader decrypts everything the file still holds" 0 "" \
	$PY3 "$REST" decrypt "$T/city.key" "$T/dataset.pfs" "$T/plain.txt"
same "purged file: the reader's count" "$(cat "$T/.out")" "present $KEPT, purged $PURGED, decrypted $KEPT"
P_ALL=$(n_strings --purged-before 2022-01-02)
K_ALL=$(n_strings --kept-from 2022-01-02)
same "purged persons: nothing of theirs in the decrypted plaintext (recipient key)" \
	"$($PY3 "$REST" find "$T/x.csv" "$T/plain.txt" --public "$T/p.ini" --purged-before 2022-01-02 | sed -n 1p)" \
	"0 of $P_ALL strings found"
same "purged persons: their ids are not among the decrypted ids" \
	"$(csv_ids --purged-before 2022-01-02 | LC_ALL=C comm -12 - <(ids_in "$T/plain.txt") | wc -l)" 0
same "control: the kept persons are all in the decrypted plaintext" \
	"$(csv_ids --kept-from 2022-01-02)" "$(ids_in "$T/plain.txt")"
ok_if "control: the purged persons' strings were in the plaintext before the purge" \
	"$P_ALL strings" [ "$($PY3 "$REST" find "$T/x.csv" "$T/plain-orig.txt" --public "$T/p.ini" --purged-before 2022-01-02 | sed -n 1p | cut -d' ' -f1)" -ge 1000 ]
ok_if "control: the kept persons' values are found in the plaintext" "$K_ALL strings" \
	[ "$($PY3 "$REST" find "$T/x.csv" "$T/plain.txt" --public "$T/p.ini" --kept-from 2022-01-02 | sed -n 1p | cut -d' ' -f1)" -ge 1000 ]
same "purged file: check loads it (ids decrypted into the index)" \
	"$(ft_env "$PFS" check "$cfg" | grep -E '^visible:')" "visible:    $KEPT records now (0 expired, $PURGED purged)"

# ---- format 1 is refused by name
FMT1="protocolfs: inspect: $FIX/format1.pfs: dataset format 1 is no longer read (this protocolfs reads format 2): ask the issuer to seal it again"
refuse "a format 1 file is refused, naming the version" 2 "$FMT1" "$FIX" \
	"$PFS" inspect --issuer "$FIX/format1-issuer.pub" "$FIX/format1.pfs"
refuse "a format 1 file is refused without --issuer too" 2 "$FMT1" "$FIX" \
	"$PFS" inspect "$FIX/format1.pfs"
exit $FAILED
