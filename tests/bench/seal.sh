#!/bin/bash
# seal.sh — benchmark of the issuer's seal and of inspect (verify + index).
#
# For each N (default 100000 and 1000000): a deterministic export from
# build/pfs-sample --seed 1 --count N, sealed with conf/protocol-mechelen-2021.ini,
# then `protocolfs inspect --issuer` (signature, manifest, every record digest,
# deadlines). Wall time, CPU time and peak RSS come from /usr/bin/time -v; each
# (command, N) is run RUNS times (default 5), interleaved: seal N1, inspect N1,
# seal N2, inspect N2, then again. Medians are printed as a Markdown table.
#
# As root (MOUNT=1, the default then), also the mount: a second export of N rows
# dated in the last 60 days, sealed under the same protocol with a window around
# today, mounted RUNS times with `protocolfs mount CONFIG MP -o allow_other`
# (the wall time until the command returns, i.e. the dataset loaded, verified,
# decrypted ids indexed and the filesystem mounted) and the daemon's VmHWM right
# after mounting, then unmounted.
#
# Usage: tests/bench/seal.sh            (as root only to install `time` if missing)
# Environment: PFS_BENCH_DIR (default /var/tmp/pfs-bench), RUNS (5), NS ("100000 1000000"),
# MOUNT (1 as root, else 0)
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
NS=${NS:-100000 1000000}
S="$BENCH_ROOT/seal"
MOUNT=${MOUNT:-$([ "$(id -u)" = 0 ] && echo 1 || echo 0)}
MP="$S/mnt"

need_pkg /usr/bin/time time
build_tree
rm -rf "$S"
mkdir -p "$S"
on_exit "rm -rf '$S'/*.pfs '$S'/*.csv '$S'/*.tmp '$S'/.*.tmp* 2>/dev/null"

cd "$S" || exit 2
# Private copies of the binaries: the tree may be rebuilt while the bench runs.
TREE="commit $(git -C "$REPO" rev-parse --short HEAD)"
DIRTY=$(git -C "$REPO" --no-optional-locks status --porcelain -- fs include Makefile | wc -l)
[ "$DIRTY" = 0 ] || TREE="$TREE + uncommitted changes in $DIRTY product files"
cp "$PFS" "$S/protocolfs" && cp "$SAMPLE" "$S/pfs-sample" || exit 2
PFS="$S/protocolfs"
SAMPLE="$S/pfs-sample"
TREE="$TREE, protocolfs sha256 $(sha256sum "$PFS" | cut -c1-12)"
"$PFS" keygen issuer agii >/dev/null || exit 2
"$PFS" keygen recipient city >/dev/null || exit 2

RAW="$S/raw.tsv"
printf 'run\tN\tcmd\twall_s\tcpu_s\tpeak_rss_kib\n' >"$RAW"

for n in $NS; do
	t0=$(now)
	"$SAMPLE" --seed 1 --count "$n" -o "export-$n.csv" || exit 2
	t1=$(now)
	echo "generated $n rows in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s" >&2
done

for r in $(seq 1 "$RUNS"); do
	for n in $NS; do
		rm -f "out-$n.pfs"
		t0=$(now)
		time_v "seal-$n.time" "$PFS" seal --protocol "$PROTOCOL" --issuer-key agii.key \
			--recipient city.pub --serial 1 "export-$n.csv" "out-$n.pfs" >/dev/null ||
			{ echo "bench: seal $n failed" >&2; cat "seal-$n.time" >&2; exit 1; }
		t1=$(now)
		printf '%s\t%s\tseal\t%s\t%s\t%s\n' "$r" "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
			"$(tv_cpu "seal-$n.time")" "$(tv_rss "seal-$n.time")" >>"$RAW"
		t0=$(now)
		time_v "inspect-$n.time" "$PFS" inspect --issuer agii.pub "out-$n.pfs" >"inspect-$n.out" ||
			{ echo "bench: inspect $n failed" >&2; cat "inspect-$n.out" "inspect-$n.time" >&2; exit 1; }
		t1=$(now)
		printf '%s\t%s\tinspect\t%s\t%s\t%s\n' "$r" "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
			"$(tv_cpu "inspect-$n.time")" "$(tv_rss "inspect-$n.time")" >>"$RAW"
		echo "run $r N=$n done" >&2
	done
done

# ------------------------------------------------------------ mount time and daemon memory
days() { date -d "$1 days" +%Y-%m-%d; }
mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
daemon_pid() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = protocolfs ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1" && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}
umount_wait() {
	local i
	mounted "$1" || return 0
	fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null || umount -l "$1"
	for i in $(seq 1 200); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "bench: daemon $2 did not exit" >&2
}
mount_config() {
	mkdir -p "$1/state"
	cat >"$1/city.ini" <<EOC
[dataset]
path = dataset.pfs
issuer_key = agii.pub
recipient_key = city.key
state_dir = state

[audit]
log = audit.log
verify_key = audit.key

[labels]
first_name = voornaam

[profile:beheerder]
description = Beheerder
fields = first_name
users = root
EOC
	chmod 644 "$1/city.ini"
}
if [ "$MOUNT" = 1 ]; then
	need_pkg fusermount3 fuse3
	on_exit "fusermount3 -u '$MP' 2>/dev/null"
	mkdir -p "$MP"
	sed -e "s/^start = .*/start = $(days -90)/" -e "s/^end = .*/end = $(days 365)/" "$PROTOCOL" >protocol-now.ini
	for n in $NS; do
		mkdir -p "m$n"
		"$SAMPLE" --seed 1 --count "$n" --from "$(days -60)" --to "$(days 0)" -o "m$n/export.csv" || exit 2
		"$PFS" seal --protocol protocol-now.ini --issuer-key agii.key --recipient city.pub --serial 1 \
			"m$n/export.csv" "m$n/dataset.pfs" >/dev/null || exit 2
		rm -f "m$n/export.csv"
		cp agii.pub city.key "m$n/" && chmod 600 "m$n/city.key"
		mount_config "m$n"
	done
	for r in $(seq 1 "$RUNS"); do
		for n in $NS; do
			t0=$(now)
			"$PFS" mount "m$n/city.ini" "$MP" -o allow_other || { echo "bench: mount $n failed" >&2; exit 1; }
			t1=$(now)
			pid=$(daemon_pid "$MP") || { echo "bench: no daemon for $MP" >&2; exit 1; }
			hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
			printf '%s\t%s\tmount\t%s\t0\t%s\n' "$r" "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$hwm" >>"$RAW"
			umount_wait "$MP" "$pid"
		done
		echo "mount run $r done" >&2
	done
fi

col() { awk -F'\t' -v n="$1" -v c="$2" -v k="$3" 'NR > 1 && $2 == n && $3 == c { print $k }' "$RAW" | median; }

echo
echo "$TREE, $(date -u +%Y-%m-%d), scratch $S ($(findmnt -n -o FSTYPE -T "$S")), $RUNS runs, medians"
echo
echo "| N | CSV | dataset (.pfs) | seal wall | seal CPU | seal peak RSS | inspect wall | inspect CPU | inspect peak RSS | inspect RSS / dataset |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for n in $NS; do
	csv=$(stat -c %s "export-$n.csv")
	pfs=$(stat -c %s "out-$n.pfs")
	irss=$(col "$n" inspect 6)
	printf '| %s | %s | %s | %.2f s | %.2f s | %s | %.3f s | %.3f s | %s | %.2f |\n' "$n" \
		"$(fmt_bytes "$csv")" "$(fmt_bytes "$pfs")" \
		"$(col "$n" seal 4)" "$(col "$n" seal 5)" "$(fmt_bytes "$(awk -v k="$(col "$n" seal 6)" 'BEGIN { print k * 1024 }')")" \
		"$(col "$n" inspect 4)" "$(col "$n" inspect 5)" "$(fmt_bytes "$(awk -v k="$irss" 'BEGIN { print k * 1024 }')")" \
		"$(awk -v r="$irss" -v d="$pfs" 'BEGIN { print r * 1024 / d }')"
done
if [ "$MOUNT" = 1 ]; then
	echo
	echo "| N | dataset (.pfs) | mount wall | daemon VmHWM after mount | VmHWM / dataset | seal peak RSS / dataset |"
	echo "| --- | --- | --- | --- | --- | --- |"
	for n in $NS; do
		pfs=$(stat -c %s "m$n/dataset.pfs")
		mrss=$(col "$n" mount 6)
		printf '| %s | %s | %.3f s | %s | %.2f | %.2f |\n' "$n" "$(fmt_bytes "$pfs")" "$(col "$n" mount 4)" \
			"$(fmt_bytes "$(awk -v k="$mrss" 'BEGIN { print k * 1024 }')")" \
			"$(awk -v r="$mrss" -v d="$pfs" 'BEGIN { print r * 1024 / d }')" \
			"$(awk -v r="$(col "$n" seal 6)" -v d="$(stat -c %s "out-$n.pfs")" 'BEGIN { print r * 1024 / d }')"
	done
fi
echo
echo "raw runs: $RAW"
