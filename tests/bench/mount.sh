#!/bin/bash
# mount.sh — protocolfs against plain tmpfs, bindfs and gocryptfs holding the same files.
#
# Setup (as root): a user benchtb in profile trajectbegeleider (all fields); a
# protocol window from today-90 to today+365; N (default 100000) persons from
# build/pfs-sample --seed 1 --from today-60 --to today; sealed; mounted with
# allow_other. benchtb copies the rendered view (cp -r) onto a private tmpfs
# ("tmpfs", the limit); bindfs (default options: single-threaded) serves that
# folder; gocryptfs (-allow_other, its cipher folder on the same tmpfs) holds a
# copy (cp -a). Every read below runs as benchtb, LC_ALL=C.
#
# Rows, each run RUNS times (default 5) interleaved over the file systems
# (protocolfs tmpfs bindfs gocryptfs, protocolfs tmpfs ...):
#   ls -l DIR >/dev/null; grep -rlF VALUE DIR (a value in a few files);
#   find DIR -type f -exec cat {} + >/dev/null;
#   openbench (tests/bench/openbench.c) with 1 and 8 threads for OPEN_SECONDS (3);
#   mount time (start to mount ready; protocolfs in background mode) and daemon
#   VmHWM right after mounting, each on a fresh mount, unmounted between runs;
#   daemon VmHWM before unmount after all read rows (the main mounts);
#   protocolfs mount time and VmHWM at NBIG (default 1000000) persons;
#   protocolfs mount time after its audit log has grown to LOGSCALE lines
#   (the daemon reads the log at start), and over the rows' own log.
# With BATCH=1 a fifth column, protocolfs-batch, is the same dataset
# mounted with [audit] sync = batch.
#
# Usage (root): tests/bench/mount.sh [--trace]
#   --trace  afterwards, count FUSE requests per opcode (perf, tracepoint
#            fuse:fuse_request_send) and daemon syscalls (strace -c -f) for one
#            `ls -l` and one cat-all on protocolfs and bindfs.
# Environment: PFS_BENCH_DIR (default /var/tmp/pfs-bench), RUNS, N, NBIG,
# OPEN_SECONDS, AUDIT_EXTRA, BATCH, LOGSCALE (see below).
# Everything it mounts and the user it creates are removed on exit.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
N=${N:-100000}
NBIG=${NBIG:-1000000}
OPEN_SECONDS=${OPEN_SECONDS:-3}
# Extra [audit] lines for the protocolfs config, e.g. AUDIT_EXTRA='sync = batch'
# (default: none, i.e. the product defaults, as in tests/lib/mount.sh).
AUDIT_EXTRA=${AUDIT_EXTRA:-}
# BATCH=1 (default) adds a fifth column: protocolfs with [audit] sync = batch (its
# own state and log): what the per-open fdatasync of sync = always costs. Before
# commit b74f7da its flusher spun a whole core; use BATCH=0 on such a tree.
BATCH=${BATCH:-1}
# Audit log sizes (lines) at which the mount time is measured again.
LOGSCALE=${LOGSCALE:-10000 40000 100000}
TRACE=0
[ "${1:-}" = --trace ] && TRACE=1
S="$BENCH_ROOT/mount"
U=benchtb
export LC_ALL=C

[ "$(id -u)" = 0 ] || { echo "bench: mount.sh must run as root" >&2; exit 2; }
need_pkg /usr/bin/time time
need_pkg fusermount3 fuse3
need_pkg bindfs bindfs
need_pkg gocryptfs gocryptfs
need_pkg gcc gcc
need_pkg python3 python3
[ "$TRACE" = 1 ] && { need_pkg perf linux-perf; need_pkg strace strace; }
build_tree

days() { date -d "$1 days" +%Y-%m-%d; }
as() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups -- "$@"; }
mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
# The pid of the FUSE daemon serving mount point $1 (a process whose argv holds it).
daemon_pid() {
	local p c
	for p in /proc/[0-9]*; do
		c=$(cat "$p/comm" 2>/dev/null) || continue
		case $c in protocolfs | bindfs | gocryptfs) ;; *) continue ;; esac
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1" && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# CPU seconds (user + system) used so far by process $1 and its threads.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
# Unmount $1 and wait (up to 20 s) for its daemon $2 to exit.
umount_wait() {
	local i
	mounted "$1" || return 0
	fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null || umount -l "$1"
	for i in $(seq 1 200); do
		[ -n "${2:-}" ] && kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "bench: daemon $2 of $1 did not exit" >&2
}
# Unmount everything under $S, deepest first (also what a crashed run left).
cleanup_mounts() {
	local m
	for m in $(awk -v s="$S/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount_wait "$m" "$(daemon_pid "$m")"
		mounted "$m" && umount -l "$m"
	done
	return 0
}
cleanup_user() { userdel "$U" >/dev/null 2>&1; return 0; }

cleanup_mounts
cleanup_user
on_exit cleanup_user
on_exit cleanup_mounts
rm -rf "$S"
mkdir -p "$S"/mnt
chmod 755 "$BENCH_ROOT" "$S" "$S/mnt"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$U" || exit 2
gcc -O2 -pthread -Wall -o "$S/openbench" "$REPO/tests/bench/openbench.c" || exit 2
# Private copies of the binaries: the tree may be rebuilt while the bench runs.
TREE="commit $(git -C "$REPO" rev-parse --short HEAD)"
DIRTY=$(git -C "$REPO" --no-optional-locks status --porcelain -- fs include Makefile | wc -l)
[ "$DIRTY" = 0 ] || TREE="$TREE + uncommitted changes in $DIRTY product files"
cp "$PFS" "$S/protocolfs" && cp "$SAMPLE" "$S/pfs-sample" || exit 2
PFS="$S/protocolfs"
SAMPLE="$S/pfs-sample"
TREE="$TREE, protocolfs sha256 $(sha256sum "$PFS" | cut -c1-12)"

# ------------------------------------------------------------ datasets and config
cd "$S" || exit 2
"$PFS" keygen issuer agii >/dev/null && "$PFS" keygen recipient city >/dev/null || exit 2
sed -e "s/^start = .*/start = $(days -90)/" -e "s/^end = .*/end = $(days 365)/" "$PROTOCOL" >protocol.ini
# write_config DIR NAME STATE AUDIT EXTRA: DIR/NAME.ini with its own state folder and
# audit log + verify key (each daemon of the bench has its own audit chain).
write_config() {
	mkdir -p "$1/$3"
	cat >"$1/$2.ini" <<EOC
[dataset]
path = dataset.pfs
issuer_key = agii.pub
recipient_key = city.key
state_dir = $3

[audit]
log = $4.log
verify_key = $4.key
$5

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

[profile:projectmedewerker]
description = Projectmedewerkers
fields = first_name, last_name, phone, email, contact_language, dutch_level, mo_status
users =

[profile:partner]
description = Partnerorganisaties
fields = first_name, contact_language, dutch_level
groups =

[profile:beheerder]
description = Beheerder
fields =
users = root
EOC
	chmod 644 "$1/$2.ini"
}
for n in "$N" "$NBIG"; do
	mkdir -p "d$n"
	"$SAMPLE" --seed 1 --count "$n" --from "$(days -60)" --to "$(days 0)" -o "d$n/export.csv" || exit 2
	"$PFS" seal --protocol protocol.ini --issuer-key agii.key --recipient city.pub --serial 1 \
		"d$n/export.csv" "d$n/dataset.pfs" >/dev/null || exit 2
	cp agii.pub city.key "d$n/"
	write_config "d$n" city state audit "$AUDIT_EXTRA"
	write_config "d$n" city-mt state-mt audit-mt "$AUDIT_EXTRA"
	[ "$n" = "$N" ] && [ "$BATCH" = 1 ] && write_config "d$n" city-batch state-batch audit-batch "sync = batch"
	[ "$n" = "$N" ] && write_config "d$n" city-log state-log audit-log "$AUDIT_EXTRA"
	chmod 600 "d$n/city.key"
	chmod 644 "d$n/agii.pub" "d$n/dataset.pfs"
	"$PFS" check "d$n/city.ini" >"d$n/check.out" || { cat "d$n/check.out" >&2; exit 2; }
done
# A value present in a few files: the first street + number of 3 to 5 unquoted addresses.
VALUE=$(awk -F';' 'NR > 1 && $4 !~ /"/ { split($4, a, ","); c[a[1]]++ }
	END { for (k in c) if (c[k] >= 3 && c[k] <= 5) print k }' "d$N/export.csv" | sort | head -1)

# ------------------------------------------------------------ the four file systems
P="$S/mnt/protocolfs"
PB="$S/mnt/protocolfs-batch"
FSS="protocolfs tmpfs bindfs gocryptfs"
[ "$BATCH" = 1 ] && FSS="$FSS protocolfs-batch"
T="$S/ram/plain"
B="$S/mnt/bindfs"
G="$S/mnt/gocryptfs"
GC="$S/ram/cipher"
mkdir -p "$P" "$PB" "$S/ram" "$B" "$G"
mount -t tmpfs -o size=4g,mode=755 pfs-bench "$S/ram" || exit 2
mkdir -p "$T" "$GC"
chown "$U" "$T"
echo "pfs-bench-passphrase" >"$S/gc.pass"
chmod 600 "$S/gc.pass"

# mount_protocolfs DIR MOUNTPOINT [CONFIG-NAME]
mount_protocolfs() { "$PFS" mount "$1/${3:-city}.ini" "$2" -o allow_other; }
mount_bindfs() { bindfs -o allow_other "$T" "$1"; }
mount_gocryptfs() { gocryptfs -q -nosyslog -passfile "$S/gc.pass" -allow_other "$GC" "$1"; }

mount_protocolfs "$S/d$N" "$P" || exit 2
as cp -r "$P/." "$T/" || exit 2
gocryptfs -q -nosyslog -init -passfile "$S/gc.pass" "$GC" >/dev/null || exit 2
mount_gocryptfs "$G" || exit 2
cp -a "$T/." "$G/" || exit 2
# Fresh daemons for the measured rows (their VmHWM must not include the setup).
umount_wait "$G" "$(daemon_pid "$G")"
umount_wait "$P" "$(daemon_pid "$P")"
mount_protocolfs "$S/d$N" "$P" && mount_bindfs "$B" && mount_gocryptfs "$G" || exit 2
[ "$BATCH" = 1 ] && { mount_protocolfs "$S/d$N" "$PB" city-batch || exit 2; }
declare -A DIR=([protocolfs]=$P [tmpfs]=$T [bindfs]=$B [gocryptfs]=$G [protocolfs-batch]=$PB)
for f in $FSS; do
	c=$(as find "${DIR[$f]}" -type f | wc -l)
	echo "$f: $c files" >&2
	[ "$c" -gt "$N" ] || { echo "bench: $f holds $c files, expected > $N" >&2; exit 2; }
done
as diff -rq "$P" "$T" >/dev/null || { echo "bench: the tmpfs copy differs from the protocolfs view" >&2; exit 2; }
as diff -rq "$T" "$G" >/dev/null || { echo "bench: the gocryptfs copy differs" >&2; exit 2; }
NFILES=$(as find "$T" -type f | wc -l)
NMATCH=$(as grep -rlF -- "$VALUE" "$T" | wc -l)
BYTES=$(du -sb --apparent-size "$T" | cut -f1)
echo "value '$VALUE' in $NMATCH files; $NFILES files, $BYTES bytes" >&2

# ------------------------------------------------------------ rows
RAW="$S/raw.tsv"
printf 'row\trun\tfs\tvalue\n' >"$RAW"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }
# Time CMD (as benchtb), print seconds.
timed() {
	local t0 t1 rc
	t0=$(now)
	as timeout 900 "$@" >/dev/null 2>>"$S/errors.log"
	rc=$?
	t1=$(now)
	[ "$rc" = 0 ] || echo "bench: exit $rc: $*" >&2
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'
}
row_ls() { timed ls -l "$1"; }
row_grep() { timed grep -rlF -- "$VALUE" "$1"; }
row_cat() { timed find "$1" -type f -exec cat {} +; }
row_open() {
	local out
	out=$(as timeout 900 "$S/openbench" "$1" "$2" "$OPEN_SECONDS") || echo "bench: openbench $1 $2: $out" >&2
	echo "$out" | sed -n 's/^ops_per_s=\([0-9.]*\) .*/\1/p'
}

for row in ls grep cat open1 open8; do
	for r in $(seq 1 "$RUNS"); do
		for f in $FSS; do
			case $row in
			ls) v=$(row_ls "${DIR[$f]}") ;;
			grep) v=$(row_grep "${DIR[$f]}") ;;
			cat) v=$(row_cat "${DIR[$f]}") ;;
			open1) v=$(row_open "${DIR[$f]}" 1) ;;
			open8) v=$(row_open "${DIR[$f]}" 8) ;;
			esac
			record "$row" "$r" "$f" "$v"
		done
		echo "row $row run $r done" >&2
	done
done
for f in $FSS; do
	[ "$f" = tmpfs ] && continue
	pid=$(daemon_pid "${DIR[$f]}")
	record hwm_after 1 "$f" "$(hwm_kib "$pid")"
	record cpu_after 1 "$f" "$(cpu_s "$pid")"
done
LOGLINES=$(wc -l <"$S/d$N/audit.log")
LOGBYTES=$(stat -c %s "$S/d$N/audit.log")

# ------------------------------------------------------------ optional: FUSE requests
if [ "$TRACE" = 1 ]; then
	TR="$S/trace"
	mkdir -p "$TR"
	for f in protocolfs bindfs $([ "$BATCH" = 1 ] && echo protocolfs-batch); do
		d=${DIR[$f]}
		pid=$(daemon_pid "$d")
		for what in ls cat; do
			case $what in
			ls) cmd=(ls -l "$d") ;;
			cat) cmd=(find "$d" -type f -exec cat {} +) ;;
			esac
			sleep 2 # let attribute and entry timeouts (1 s in bindfs) expire, as between rows
			perf record -q -o "$TR/$f-$what.perf" -e fuse:fuse_request_send -a -- \
				setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups -- "${cmd[@]}" >/dev/null 2>&1
			# Only this mount's connection (its device minor), one count per opcode.
			conn=$(mountpoint -d "$d" | cut -d: -f2)
			perf script -i "$TR/$f-$what.perf" 2>/dev/null |
				sed -n "s/.*connection $conn .*opcode [0-9]* (\([A-Z_0-9]*\)).*/\1/p" |
				sort | uniq -c | sort -rn >"$TR/$f-$what.opcodes"
			sleep 2
			strace -c -f -q -o "$TR/$f-$what.strace" -p "$pid" &
			sp=$!
			sleep 1
			as "${cmd[@]}" >/dev/null
			sleep 0.5
			kill -INT "$sp"
			wait "$sp" 2>/dev/null
		done
	done
	{
		echo "FUSE requests for one run, as benchtb, over $NFILES files (requests per file):"
		for x in "$TR"/*.opcodes; do
			printf '%s:' "$(basename "$x" .opcodes)"
			awk -v n="$NFILES" '$1 / n >= 0.005 { printf " %s %.2f", $2, $1 / n }' "$x"
			echo
		done
		echo
		echo "daemon syscalls (strace -c -f), top 6:"
		for x in "$TR"/*.strace; do
			echo "$(basename "$x" .strace):"
			sed -n '3,8p' "$x"
		done
	} >"$TR/summary.txt"
fi

# ------------------------------------------------------------ mount time and RSS
for f in $FSS; do [ "$f" = tmpfs ] || umount_wait "${DIR[$f]}" "$(daemon_pid "${DIR[$f]}")"; done
MP="$S/mnt/m"
mkdir -p "$MP"
for r in $(seq 1 "$RUNS"); do
	for f in protocolfs bindfs gocryptfs protocolfs-big; do
		t0=$(now)
		case $f in
		protocolfs) mount_protocolfs "$S/d$N" "$MP" city-mt ;;
		protocolfs-big) mount_protocolfs "$S/d$NBIG" "$MP" city-mt ;;
		bindfs) mount_bindfs "$MP" ;;
		gocryptfs) mount_gocryptfs "$MP" ;;
		esac || { echo "bench: mount $f failed" >&2; exit 1; }
		t1=$(now)
		mounted "$MP" || { echo "bench: $f not mounted after its command returned" >&2; exit 1; }
		pid=$(daemon_pid "$MP")
		record mount "$r" "$f" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }')"
		record hwm_mount "$r" "$f" "$(hwm_kib "$pid")"
		umount_wait "$MP" "$pid"
	done
	echo "mount run $r done" >&2
done

# ------------------------------------------------------------ mount time vs audit log
# The daemon reads its audit log at start: mount again after the log has grown to
# about K lines (one line per open: benchtb cats files), 3 mounts per K. Then, if
# the largest of those mounted within 2 s, 3 mounts over the main mount's log,
# which the rows grew to over a million lines (a tree whose start-up replay is
# quadratic, before commit 1c4f7e9, would take hours there).
# mount_log_runs CONFIG-NAME LOG: 3 timed mounts; sets LAST to the last one's seconds.
LAST=999
mount_log_runs() {
	local lines r t0 t1 pid
	lines=$(wc -l <"$2")
	for r in 1 2 3; do
		t0=$(now)
		timeout 900 "$PFS" mount "$S/d$N/$1.ini" "$MP" -o allow_other || { echo "bench: mount with a $lines-line audit log failed" >&2; LAST=999; return 1; }
		t1=$(now)
		pid=$(daemon_pid "$MP")
		LAST=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }')
		record "mountlog_$lines" "$r" protocolfs "$LAST"
		record "hwmlog_$lines" "$r" protocolfs "$(hwm_kib "$pid")"
		record "logbytes_$lines" "$r" protocolfs "$(stat -c %s "$2")"
		umount_wait "$MP" "$pid"
	done
	echo "mount with a $lines-line audit log done" >&2
}
for k in $LOGSCALE; do
	mount_protocolfs "$S/d$N" "$MP" city-log || exit 1
	have=$(wc -l <"$S/d$N/audit-log.log")
	if [ "$k" -gt "$have" ]; then
		as find "$MP" -name '*.txt' | head -n $((k - have)) | as xargs cat >/dev/null
	fi
	umount_wait "$MP" "$(daemon_pid "$MP")"
	mount_log_runs city-log "$S/d$N/audit-log.log"
done
if awk -v t="$LAST" 'BEGIN { exit !(t < 2) }'; then
	mount_log_runs city "$S/d$N/audit.log"
else
	echo "bench: not mounting over the main audit log (last mount took $LAST s)" >&2
fi

# ------------------------------------------------------------ report
python3 - "$RAW" "$N" "$NBIG" "$NFILES" "$BYTES" "$NMATCH" "$OPEN_SECONDS" \
	"$TREE" "$(date +%Y-%m-%d)" \
	"$(findmnt -n -o FSTYPE -T "$BENCH_ROOT")" "$RUNS" "$FSS" "$LOGLINES" "$LOGBYTES" <<'EOF' | tee "$S/report.md"
import sys, statistics as st
raw, n, nbig, nfiles, nbytes, nmatch, secs, commit, day, scratch_fs, runs, fss, loglines, logbytes = sys.argv[1:]
cols = ["protocolfs", "tmpfs", "bindfs", "gocryptfs"] + (["protocolfs-batch"] if "protocolfs-batch" in fss.split() else [])
rows = {}
for line in open(raw).read().splitlines()[1:]:
    row, run, fs, v = line.split("\t")
    if v:
        rows.setdefault((row, fs), []).append(float(v))
def med(row, fs):
    v = rows.get((row, fs))
    return st.median(v) if v else None
def rng(row, fs):
    v = rows.get((row, fs))
    return (min(v), max(v)) if v else None
print(f"N = {int(n):,} persons ({int(nfiles):,} files, {int(nbytes)/1048576:.1f} MiB rendered), "
      f"{commit}, {day}, scratch {scratch_fs} (/var/tmp/pfs-bench), tmpfs for the copies, "
      f"{runs} interleaved runs, medians (min-max); openbench {secs} s per run")
print()
print("| row | " + " | ".join(cols) + " | protocolfs ÷ bindfs (cost) | gocryptfs ÷ protocolfs (cost) |")
print("| --- " * (len(cols) + 3) + "|")
spec = [("ls", "`ls -l` (s)", "time"), ("grep", f"`grep -rlF` ({nmatch} hits) (s)", "time"),
        ("cat", "cat every file (s)", "time"), ("open1", "open+read+close, 1 thread (ops/s)", "rate"),
        ("open8", "open+read+close, 8 threads (ops/s)", "rate"), ("mount", "mount time (s)", "time"),
        ("hwm_mount", "daemon VmHWM after mount (MiB)", "mem"),
        ("hwm_after", "daemon VmHWM after all rows (MiB)", "mem"),
        ("cpu_after", "daemon CPU time, checks + all rows (s)", "time")]
def cell(row, fs, kind):
    m = med(row, fs)
    if m is None:
        return "—"
    lo, hi = rng(row, fs)
    if kind == "mem":
        return f"{m/1024:.1f}" if lo == hi else f"{m/1024:.1f} ({lo/1024:.1f}-{hi/1024:.1f})"
    if kind == "rate":
        return f"{m:,.0f} ({lo:,.0f}-{hi:,.0f})"
    return f"{m:.3f} ({lo:.3f}-{hi:.3f})"
def cost(row, fs, kind):
    m = med(row, fs)
    if m is None or m == 0:
        return None
    return 1 / m if kind == "rate" else m
for row, label, kind in spec:
    p, b, g = cost(row, "protocolfs", kind), cost(row, "bindfs", kind), cost(row, "gocryptfs", kind)
    rb = f"{p / b:.2f}" if p and b else "—"
    rg = f"{g / p:.2f}" if p and g else "—"
    print(f"| {label} | " + " | ".join(cell(row, f, kind) for f in cols)
          + f" | {rb} | {rg} |")
print()
print(f"protocolfs at {int(nbig):,} persons: mount {cell('mount', 'protocolfs-big', 'time')} s, "
      f"daemon VmHWM after mount {cell('hwm_mount', 'protocolfs-big', 'mem')} MiB")
print(f"The main protocolfs mount's audit log after the rows: {int(loglines):,} lines, {int(logbytes)/1048576:.1f} MiB.")
logrows = sorted(int(r.split("_")[1]) for (r, f) in rows if r.startswith("mountlog_"))
if logrows:
    print()
    print(f"protocolfs mount time ({int(n):,} persons) against the size of its audit log, 3 mounts each:")
    print()
    print("| audit log lines | audit log size | mount time (s) | daemon VmHWM after mount (MiB) |")
    print("| --- | --- | --- | --- |")
    for L in logrows:
        print(f"| {L:,} | {med(f'logbytes_{L}', 'protocolfs')/1048576:.1f} MiB | {cell(f'mountlog_{L}', 'protocolfs', 'time')} | "
              f"{cell(f'hwmlog_{L}', 'protocolfs', 'mem')} |")
print()
print("Mount rows use a config with its own (small) audit log; costs are time, or 1 / (ops/s); "
      "protocolfs ÷ bindfs ≤ 1.00 means at or under bindfs, gocryptfs ÷ protocolfs ≥ 1.50 means "
      "1.5 × faster than gocryptfs." + (" protocolfs-batch: same dataset, [audit] sync = batch." if "protocolfs-batch" in cols else ""))
EOF
echo "raw runs: $RAW" >&2
