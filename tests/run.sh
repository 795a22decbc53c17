#!/bin/sh
# run.sh — runs every test and ends with one line "N passed, N failed".
# Unit binaries (build/unit/test_*) and shell cases (tests/cli/*.sh, tests/mount/*.sh)
# print "PASS name" / "FAIL name" lines. A program that exits non-zero without
# printing a FAIL line, or prints nothing at all, counts as one failure: a crash or
# a skipped case never passes silently.
cd "$(dirname "$0")/.." || exit 2
# The mount tests run helpers as other users: a checkout they cannot read (one
# under /root, say) is copied to a world-readable folder and tested there.
if [ "$(id -u)" = 0 ] && [ -z "${PFS_TEST_COPY:-}" ] &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$(pwd)/tests/run.sh" 2>/dev/null; then
	copy=$(mktemp -d /tmp/protocolfs-check.XXXXXX) || exit 2
	chmod 755 "$copy"
	tar -cf - --exclude=./.git --exclude=./demo . | tar -xf - -C "$copy" || exit 2
	chmod -R go+rX "$copy"
	echo "(the checkout is not readable by other users: testing a copy in $copy)"
	PFS_TEST_COPY=1 sh "$copy/tests/run.sh"
	rc=$?
	rm -rf "$copy"
	exit $rc
fi
# Under SANITIZE=1, the time tests preload libfaketime ahead of the ASan runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
pass=0
fail=0
log=$(mktemp)
run_one() {
	name=$1
	shift
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAIL $name (exit $rc without a FAIL line)" >>"$log"
	fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAIL $name (ran no test)" >>"$log"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" != 0 ]; then
		echo "== $name: $p passed, $f failed"
		sed 's/^/   /' "$log"
	else
		echo "== $name: $p passed"
	fi
}
for t in build/unit/test_*; do
	[ -x "$t" ] && run_one "$t" "$t"
done
for t in tests/cli/*.sh tests/mount/*.sh; do
	[ -f "$t" ] && run_one "$t" bash "$t"
done
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
