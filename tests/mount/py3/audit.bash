# audit.bash — sourced by tests/mount/audit_*.sh after common.sh and mount.sh:
# the python helpers of py3/ and two shortcuts the audit tests share.
#   alog ARGS...            python3 py3/auditlog.py ARGS (parse, count, select lines)
#   open1 USER ARGS...      open (and read) files as USER through py3/open1.py
PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY3=/usr/bin/python3
F1="$MNT/INB0000001.txt"
F2="$MNT/INB0000002.txt"
alog() { $PY3 "$PY/auditlog.py" "$@"; }
open1() {
	local u=$1
	shift
	as "$u" $PY3 "$PY/open1.py" "$@"
}
