#!/bin/bash
# audit-cost.sh — how much of protocolfs's per-open cost is the audit log's disk flush.
#
# One dataset of N (default 100000) persons, mounted twice side by side with the
# same config except where the audit log and state folder live:
#   disk   on the scratch file system (ext4 under /var/tmp: sync = always pays
#          a real fdatasync per open);
#   ram    on a tmpfs (fdatasync returns at once: everything else stays);
# plus bindfs over a tmpfs copy of the same files as the reference. Rows, RUNS
# times (default 3) interleaved, as benchtb: cat every file, openbench with 1 and
# 8 threads (OPEN_SECONDS, default 3). Prints a Markdown table of medians and the
# daemons' CPU seconds. Root only; removes its mounts and the user on exit.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
N=${N:-100000}
OPEN_SECONDS=${OPEN_SECONDS:-3}
S="$BENCH_ROOT/audit-cost"
U=benchtb
export LC_ALL=C

[ "$(id -u)" = 0 ] || { echo "bench: audit-cost.sh must run as root" >&2; exit 2; }
need_pkg bindfs bindfs
need_pkg gcc gcc
build_tree

days() { date -d "$1 days" +%Y-%m-%d; }
as() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups -- "$@"; }
mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
daemon_pid() {
	local p c
	for p in /proc/[0-9]*; do
		c=$(cat "$p/comm" 2>/dev/null) || continue
		case $c in protocolfs | bindfs) ;; *) continue ;; esac
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1" && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
cleanup() {
	local m
	for m in $(awk -v s="$S/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m"
	done
	sleep 1
	userdel "$U" >/dev/null 2>&1
	return 0
}
cleanup
on_exit cleanup
rm -rf "$S"
mkdir -p "$S/mnt/disk" "$S/mnt/ram" "$S/mnt/bindfs" "$S/ram"
chmod 755 "$BENCH_ROOT" "$S" "$S/mnt"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$U" || exit 2
gcc -O2 -pthread -o "$S/openbench" "$REPO/tests/bench/openbench.c" || exit 2
TREE="commit $(git -C "$REPO" rev-parse --short HEAD)"
DIRTY=$(git -C "$REPO" --no-optional-locks status --porcelain -- fs include Makefile | wc -l)
[ "$DIRTY" = 0 ] || TREE="$TREE + uncommitted changes in $DIRTY product files"
cp "$PFS" "$S/protocolfs" && PFS="$S/protocolfs" || exit 2
TREE="$TREE, protocolfs sha256 $(sha256sum "$PFS" | cut -c1-12)"
mount -t tmpfs -o size=2g,mode=755 pfs-bench-audit "$S/ram" || exit 2

cd "$S" || exit 2
"$PFS" keygen issuer agii >/dev/null && "$PFS" keygen recipient city >/dev/null || exit 2
sed -e "s/^start = .*/start = $(days -90)/" -e "s/^end = .*/end = $(days 365)/" "$PROTOCOL" >protocol.ini
"$SAMPLE" --seed 1 --count "$N" --from "$(days -60)" --to "$(days 0)" -o export.csv || exit 2
"$PFS" seal --protocol protocol.ini --issuer-key agii.key --recipient city.pub --serial 1 \
	export.csv dataset.pfs >/dev/null || exit 2
mkdir -p "$S/state" "$S/ram/state"
for where in disk ram; do
	base=$S
	[ "$where" = ram ] && base=$S/ram
	cat >"$S/$where.ini" <<EOC
[dataset]
path = $S/dataset.pfs
issuer_key = $S/agii.pub
recipient_key = $S/city.key
state_dir = $base/state

[audit]
log = $base/audit.log
verify_key = $base/audit.key

[labels]
first_name = voornaam
last_name = achternaam
address = adres
phone = telefoon
email = e-mail
contact_language = contacttaal
dutch_level = niveau Nederlands
mo_status = status MO

[profile:trajectbegeleider]
description = Trajectbegeleiders
fields = first_name, last_name, address, phone, email, contact_language, dutch_level, mo_status
users = $U

[profile:beheerder]
description = Beheerder
fields =
users = root
EOC
	"$PFS" mount "$S/$where.ini" "$S/mnt/$where" -o allow_other || exit 2
done
mkdir -p "$S/ram/plain"
chown "$U" "$S/ram/plain"
as cp -r "$S/mnt/disk/." "$S/ram/plain/" || exit 2
bindfs -o allow_other "$S/ram/plain" "$S/mnt/bindfs" || exit 2

RAW="$S/raw.tsv"
printf 'row\trun\tfs\tvalue\n' >"$RAW"
FSS="disk ram bindfs"
for row in cat open1 open8; do
	for r in $(seq 1 "$RUNS"); do
		for f in $FSS; do
			d="$S/mnt/$f"
			case $row in
			cat)
				t0=$(now)
				as find "$d" -type f -exec cat {} + >/dev/null
				t1=$(now)
				v=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
				;;
			open1 | open8)
				v=$(as "$S/openbench" "$d" "${row#open}" "$OPEN_SECONDS" | sed -n 's/^ops_per_s=\([0-9.]*\) .*/\1/p')
				;;
			esac
			printf '%s\t%s\t%s\t%s\n' "$row" "$r" "$f" "$v" >>"$RAW"
		done
		echo "row $row run $r done" >&2
	done
done
for f in $FSS; do
	printf 'cpu\t1\t%s\t%s\n' "$f" "$(cpu_s "$(daemon_pid "$S/mnt/$f")")" >>"$RAW"
done

echo "N = $N, $TREE, $(date +%Y-%m-%d), $RUNS interleaved runs, medians; disk = audit log and state on $(findmnt -n -o FSTYPE -T "$S"), ram = on tmpfs"
echo
echo "| row | protocolfs, audit on disk | protocolfs, audit on tmpfs | bindfs |"
echo "| --- | --- | --- | --- |"
for row in cat open1 open8 cpu; do
	case $row in
	cat) label="cat every file (s)" ;;
	open1) label="open+read+close, 1 thread (ops/s)" ;;
	open8) label="open+read+close, 8 threads (ops/s)" ;;
	cpu) label="daemon CPU, all rows (s)" ;;
	esac
	printf '| %s |' "$label"
	for f in $FSS; do
		printf ' %s |' "$(awk -F'\t' -v r="$row" -v f="$f" '$1 == r && $3 == f { print $4 }' "$RAW" | median)"
	done
	echo
done
