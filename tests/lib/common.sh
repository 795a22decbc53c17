# common.sh — sourced by every shell test (tests/cli/*.sh, tests/mount/*.sh).
#
# pass NAME / fail NAME MSG print the lines tests/run.sh counts. Helpers compare
# exact output and exit status. Each test file works in its own temporary folder,
# removed on exit; PFS is the binary under test.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PFS="$TOP/protocolfs"
SAMPLE="$TOP/build/pfs-sample"
PROTOCOL="$TOP/conf/protocol-mechelen-2021.ini"
T=$(mktemp -d /tmp/pfs-test.XXXXXX)
chmod 755 "$T"
_cleanups=()
on_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
	rm -rf "$T"
}
trap _run_cleanups EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	FAILED=1
}
FAILED=0

# expect NAME WANT_STATUS WANT_STDERR CMD... — run CMD, compare exit status and the
# exact stderr text (use "" for none).
expect() {
	local name=$1 want_rc=$2 want_err=$3 rc
	shift 3
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc; stderr: $(cat "$T/.err")"
	elif [ "$(cat "$T/.err")" != "$want_err" ]; then
		fail "$name" "stderr: '$(cat "$T/.err")', want '$want_err'"
	else
		pass "$name"
	fi
}

# same NAME GOT WANT — exact string comparison.
same() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}
