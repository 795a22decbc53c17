#!/bin/bash
# ratelimit.sh — what the rate limiter costs an open, and how fast a denial flood
# grows the audit log.
#
# opens: one dataset of N (default 1000) persons mounted twice side by side,
#   identical but for [audit] max_opens_per_minute (+ _profile) = 1000000 (never
#   reached) in one of them; the audit log on a tmpfs with sync = batch, so that
#   the flush does not hide the CPU cost being measured. openbench opens, reads
#   and closes files as USERS (default 10000) distinct uids (setfsuid per open; the
#   profile is by group), THREADS 1 and 2, OPEN_SECONDS each, RUNS times
#   interleaved; medians, and the ratio limited / unlimited.
# flood: a user without a profile opens FLOOD (default 20000) distinct 254-byte
#   names as fast as it can; the log's growth in bytes and lines per second.
#   PFS_OLD=/path/to/an/older/protocolfs runs the flood on that binary too.
# micro: the limiter's own cost per take over USERS keys (tests/bench/ratelimit-micro.c).
# Root only; removes its mounts, users and group on exit.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
N=${N:-1000}
USERS=${USERS:-10000}
OPEN_SECONDS=${OPEN_SECONDS:-3}
FLOOD=${FLOOD:-20000}
S="$BENCH_ROOT/ratelimit"
G=benchrl
U=benchno
BASE=300000
export LC_ALL=C

[ "$(id -u)" = 0 ] || { echo "bench: ratelimit.sh must run as root" >&2; exit 2; }
need_pkg gcc gcc
build_tree

days() { date -d "$1 days" +%Y-%m-%d; }
cleanup() {
	local m
	for m in $(awk -v s="$S/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m"
	done
	sleep 1
	userdel "$U" >/dev/null 2>&1
	groupdel "$G" >/dev/null 2>&1
	return 0
}
cleanup
on_exit cleanup
rm -rf "$S"
mkdir -p "$S/mnt/off" "$S/mnt/on" "$S/mnt/flood" "$S/mnt/old" "$S/ram"
chmod 755 "$BENCH_ROOT" "$S" "$S/mnt"
groupadd "$G" || exit 2
useradd -M -N -g nogroup -s /usr/sbin/nologin "$U" || exit 2
GID=$(getent group "$G" | cut -d: -f3)
gcc -O2 -pthread -o "$S/openbench" "$REPO/tests/bench/openbench.c" || exit 2
gcc -O2 -I"$REPO/include" -o "$S/rlmicro" "$REPO/tests/bench/ratelimit-micro.c" \
	"$REPO/build/ratelimit.o" "$REPO/build/util.o" -lsodium || exit 2
TREE="commit $(git -C "$REPO" rev-parse --short HEAD)"
DIRTY=$(git -C "$REPO" --no-optional-locks status --porcelain -- fs include Makefile | wc -l)
[ "$DIRTY" = 0 ] || TREE="$TREE + uncommitted changes in $DIRTY product files"
cp "$PFS" "$S/protocolfs" && PFS="$S/protocolfs" || exit 2
mount -t tmpfs -o size=1g,mode=755 pfs-bench-rl "$S/ram" || exit 2

cd "$S" || exit 2
"$PFS" keygen issuer agii >/dev/null && "$PFS" keygen recipient city >/dev/null || exit 2
sed -e "s/^start = .*/start = $(days -90)/" -e "s/^end = .*/end = $(days 365)/" "$PROTOCOL" >protocol.ini
"$SAMPLE" --seed 1 --count "$N" --from "$(days -60)" --to "$(days 0)" -o export.csv || exit 2
"$PFS" seal --protocol protocol.ini --issuer-key agii.key --recipient city.pub --serial 1 \
	export.csv dataset.pfs >/dev/null || exit 2
config() { # NAME EXTRA-AUDIT-LINES
	mkdir -p "$S/ram/$1.state"
	cat >"$S/$1.ini" <<EOC
[dataset]
path = $S/dataset.pfs
issuer_key = $S/agii.pub
recipient_key = $S/city.key
state_dir = $S/ram/$1.state

[audit]
log = $S/ram/$1.log
verify_key = $S/ram/$1.key
sync = batch
$2

[labels]
first_name = voornaam
last_name = achternaam
address = adres
phone = telefoon
email = e-mail
contact_language = contacttaal
dutch_level = niveau Nederlands
mo_status = status MO

[profile:staff]
description = Everyone in the bench group
fields = first_name, last_name, address, phone, email, contact_language, dutch_level, mo_status
groups = $G

[profile:beheerder]
description = Beheerder
fields =
users = root
EOC
}
config off ""
config on "max_opens_per_minute = 1000000
max_opens_per_minute_profile = 10000000"
config flood ""
"$PFS" mount "$S/off.ini" "$S/mnt/off" -o allow_other || exit 2
"$PFS" mount "$S/on.ini" "$S/mnt/on" -o allow_other || exit 2

RAW="$S/raw.tsv"
printf 'row\trun\tfs\tvalue\n' >"$RAW"
for th in 1 2; do
	for r in $(seq 1 "$RUNS"); do
		order="off on"
		[ $((r % 2)) = 0 ] && order="on off" # alternate, so neither always goes first
		for f in $order; do
			v=$("$S/openbench" "$S/mnt/$f" "$th" "$OPEN_SECONDS" "$USERS" "$BASE" "$GID")
			case $v in *" errors=0"*) ;; *) echo "bench: $f: $v" >&2; exit 2 ;; esac
			printf 'open%s\t%s\t%s\t%s\n' "$th" "$r" "$f" "${v#ops_per_s=}" | sed 's/ ops=.*//' >>"$RAW"
		done
	done
	echo "threads $th done" >&2
done

flood() { # BINARY MOUNTPOINT LOG -> "seconds bytes lines"
	local b0 l0 t0 t1
	"$1" mount "$S/flood.ini" "$2" -o allow_other || exit 2
	b0=$(stat -c %s "$3")
	l0=$(wc -l <"$3")
	t0=$(now)
	setpriv --reuid="$U" --regid=nogroup --init-groups -- /usr/bin/python3 -c '
import os, sys
for i in range(int(sys.argv[2])):
    try:
        os.open(os.path.join(sys.argv[1], "A" * 248 + "%06d" % i), os.O_RDONLY)
    except PermissionError:
        pass' "$2" "$FLOOD"
	t1=$(now)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(($(stat -c %s "$3") - b0)) $(($(wc -l <"$3") - l0))"
	fusermount3 -u "$2"
}
read -r fs fb fl <<<"$(flood "$PFS" "$S/mnt/flood" "$S/ram/flood.log")"
if [ -n "${PFS_OLD:-}" ]; then
	rm -rf "$S/ram/flood.state" "$S/ram/flood.log" "$S/ram/flood.key"
	mkdir -p "$S/ram/flood.state"
	read -r os ob ol <<<"$(flood "$PFS_OLD" "$S/mnt/old" "$S/ram/flood.log")"
fi

m() { awk -F'\t' -v r="$1" -v f="$2" '$1 == r && $3 == f { print $4 }' "$RAW" | median; }
echo "N = $N persons, $USERS distinct uids, $TREE, $(date +%Y-%m-%d), $RUNS interleaved runs of $OPEN_SECONDS s, medians; audit log on tmpfs, sync = batch"
echo
echo "| row | no limit | max_opens_per_minute set | ratio |"
echo "| --- | --- | --- | --- |"
for th in 1 2; do
	a=$(m "open$th" off)
	b=$(m "open$th" on)
	printf '| open+read+close, %s thread(s) (ops/s) | %s | %s | %s |\n' "$th" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
done
echo
echo "The limiter alone (tests/bench/ratelimit-micro.c, one thread, $USERS keys): $("$S/rlmicro" "$USERS")"
echo
echo "Denial flood: $FLOOD denied opens of distinct names by one user without a profile"
echo
echo "| binary | seconds | log bytes | log lines | bytes/s | lines/s |"
echo "| --- | --- | --- | --- | --- | --- |"
row() { printf '| %s | %s | %s | %s | %.0f | %.0f |\n' "$1" "$2" "$3" "$4" "$(awk -v b="$3" -v s="$2" 'BEGIN { print b / s }')" "$(awk -v b="$4" -v s="$2" 'BEGIN { print b / s }')"; }
row "this tree" "$fs" "$fb" "$fl"
[ -n "${PFS_OLD:-}" ] && row "$PFS_OLD" "$os" "$ob" "$ol"
exit 0
