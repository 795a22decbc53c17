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
# Usage: tests/bench/seal.sh            (as root only to install `time` if missing)
# Environment: PFS_BENCH_DIR (default /var/tmp/pfs-bench), RUNS (5), NS ("100000 1000000")
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
NS=${NS:-100000 1000000}
S="$BENCH_ROOT/seal"

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
echo
echo "raw runs: $RAW"
