#!/bin/sh
# demo.sh — `make demo`: the whole job on generated sample data.
#
# Generates 300 synthetic newcomers, makes the agency's and the city's keys, seals
# the export under a demo protocol whose window holds today (the seed protocol's
# own window ended on 30 June 2022), inspects the result, and mounts it with
# allow_other at /srv/inburgering-demo (outside the checkout, which may sit in a
# folder other users cannot enter, such as /root) with three demo users of
# different function profiles.
# `make demo-stop` (or `sh tests/demo.sh stop`) unmounts and removes the users.
set -u
cd "$(dirname "$0")/.." || exit 2
TOP=$(pwd)
D="$TOP/demo"
MNT=/srv/inburgering-demo
PFS="$TOP/protocolfs"
USERS="demo_begeleider demo_medewerker demo_partner"

stop() {
	if grep -q " $MNT " /proc/self/mountinfo 2>/dev/null; then
		fusermount3 -u "$MNT" && echo "demo: unmounted $MNT"
	fi
	for u in $USERS; do userdel "$u" 2>/dev/null; done
	groupdel demo_partners 2>/dev/null
	return 0
}

if [ "${1:-}" = stop ]; then
	stop
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it mounts and creates demo users)" >&2; exit 2; }
stop >/dev/null
rm -rf "$D" && mkdir -p "$D/state" "$MNT" && chmod 755 "$D" "$MNT" || exit 2
step() { printf '\n== %s\n' "$*"; }
run() { echo "\$ $*"; "$@" || exit 2; }

start=$(date -u -d '-90 days' +%Y-%m-%d)
end=$(date -u -d '+365 days' +%Y-%m-%d)
step "1. The agency's export: 300 synthetic newcomers (deterministic, seed 2021)"
run "$TOP/build/pfs-sample" --seed 2021 --count 300 --from "$(date -u -d '-60 days' +%Y-%m-%d)" \
	--to "$(date -u +%Y-%m-%d)" -o "$D/export.csv"
head -c 400 "$D/export.csv" | sed '1s/^\xef\xbb\xbf//' | head -3
step "2. Keys: the agency signs (issuer), the city decrypts (recipient)"
run "$PFS" keygen issuer "$D/agii"
run "$PFS" keygen recipient "$D/mechelen"
step "3. Seal under a demo protocol whose window ($start to $end) holds today"
sed -e "s/^start = .*/start = $start/" -e "s/^end = .*/end = $end/" \
	conf/protocol-mechelen-2021.ini >"$D/protocol.ini"
run "$PFS" seal --protocol "$D/protocol.ini" --issuer-key "$D/agii.key" \
	--recipient "$D/mechelen.pub" --serial 1 "$D/export.csv" "$D/dataset.pfs"
step "4. Inspect: the signed header, no personal data"
run "$PFS" inspect --issuer "$D/agii.pub" "$D/dataset.pfs"

step "5. The city's config: function profiles and demo users"
groupadd demo_partners
useradd -M -N -g nogroup -s /usr/sbin/nologin demo_begeleider
useradd -M -N -g nogroup -s /usr/sbin/nologin demo_medewerker
useradd -M -N -g nogroup -G demo_partners -s /usr/sbin/nologin demo_partner
sed -e "s|^path = .*|path = dataset.pfs|" -e "s|^issuer_key = .*|issuer_key = agii.pub|" \
	-e "s|^recipient_key = .*|recipient_key = mechelen.key|" -e "s|^state_dir = .*|state_dir = state|" \
	-e "s|^log = .*|log = audit.log|" -e "s|^verify_key = .*|verify_key = audit-verify.key|" \
	-e "/^passphrase_file/d" \
	-e "s|^users = trajectbegeleiders.*|users = demo_begeleider|" \
	-e "s|^users = projectmedewerkers.*|users = demo_medewerker|" \
	-e "s|^groups = .*|groups =|" \
	-e "/^\[profile:partner\]/,/^\[/s|^groups =.*|groups = demo_partners|" \
	conf/mechelen.ini >"$D/mechelen.ini"
run "$PFS" check "$D/mechelen.ini"

step "6. Mount with allow_other at $MNT"
run "$PFS" mount "$D/mechelen.ini" "$MNT" -o allow_other
grep " $MNT " /proc/self/mountinfo | sed 's/^/   /'
id=$(su -s /bin/sh demo_begeleider -c "ls '$MNT'" | grep '\.txt$' | head -1)
[ -n "$id" ] || { echo "demo: demo_begeleider sees no person file in $MNT" >&2; exit 2; }
for u in demo_begeleider demo_medewerker demo_partner; do
	step "What $u sees in $id"
	su -s /bin/sh "$u" -c "cat '$MNT/$id'"
done
step "The admin (root, profile beheerder) sees no person files, only:"
ls "$MNT"
cat "$MNT/LEESMIJ-README"
step "Every open is in the audit log (Art. 6): who saw $id, and the chain verified"
run "$PFS" audit report --record "${id%.txt}" "$D/audit.log"
run "$PFS" audit verify --key "$D/audit-verify.key" "$D/audit.log"
step "Try it"
cat <<TXT
  su -s /bin/bash demo_partner -c 'ls $MNT | head; grep -r Arabisch $MNT | head -3'
  su -s /bin/bash demo_begeleider -c 'getfattr -d $MNT/$id'
  $PFS audit anomalies $D/audit.log
  stop:  make demo-stop     (or: fusermount3 -u $MNT)
TXT
