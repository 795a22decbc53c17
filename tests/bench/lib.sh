# lib.sh — helpers sourced by tests/bench/*.sh (benchmarks, not tests).
#
#   need_pkg CMD PKG     apt-get install PKG when CMD is missing (root only)
#   now                  wall clock in seconds with microseconds (bash EPOCHREALTIME)
#   median               median of the numbers on stdin (one per line)
#   fmt_bytes N          N bytes as MiB with one decimal
#   time_v OUT CMD...    run CMD under /usr/bin/time -v, report into OUT
#   tv_wall OUT          wall seconds from a time -v report
#   tv_rss OUT           peak RSS (KiB) from a time -v report
#   on_exit CMD          run CMD (last registered first) when the script exits

BENCH_ROOT=${PFS_BENCH_DIR:-/var/tmp/pfs-bench}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PFS="$REPO/protocolfs"
SAMPLE="$REPO/build/pfs-sample"
PROTOCOL="$REPO/conf/protocol-mechelen-2021.ini"

_exit_cmds=()
on_exit() { _exit_cmds=("$1" "${_exit_cmds[@]}"); }
_run_exit() {
	local c
	for c in "${_exit_cmds[@]}"; do eval "$c" || true; done
}
trap _run_exit EXIT
trap 'exit 130' INT TERM

need_pkg() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || { echo "bench: $1 missing (Debian package $2)" >&2; exit 2; }
	apt-get install -y -q "$2" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
	command -v "$1" >/dev/null 2>&1 || { echo "bench: cannot install $2" >&2; exit 2; }
}

now() { echo "${EPOCHREALTIME/,/.}"; }

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) printf "%.10g\n", v[(NR + 1) / 2]
		else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fmt_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# Build the tree if the binaries are missing; retry while a concurrent edit breaks it.
build_tree() {
	local i
	for i in 1 2 3 4 5; do
		make -C "$REPO" build >/dev/null 2>&1 && [ -x "$PFS" ] && [ -x "$SAMPLE" ] && return 0
		echo "bench: build failed, retrying in 60 s" >&2
		sleep 60
	done
	echo "bench: cannot build" >&2
	exit 2
}

time_v() {
	local out=$1
	shift
	/usr/bin/time -v -o "$out" "$@"
}

# "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23" -> seconds
tv_wall() {
	awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		print s }' "$1"
}
tv_rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
tv_cpu() { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$1"; }
