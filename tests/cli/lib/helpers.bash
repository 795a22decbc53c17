# helpers.bash — sourced by tests/cli/*.sh after tests/lib/common.sh.
#
# Each helper prints exactly one PASS or FAIL line. Comparisons are byte-exact:
# a wanted stdout/stderr of "text" means the stream is exactly "text\n"; "" means
# the stream is empty.

# tree_state DIR — everything about DIR that a refused command must not change:
# every entry (path, inode, size, mode, mtime) and every file's sha256. A file
# created (the output, a *.tmp.* left behind), removed, rewritten or replaced by a
# rename shows up as a difference.
tree_state() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 -printf '%p %i %s %m %T@\n' | LC_ALL=C sort
		find . -type f -exec sha256sum {} + | LC_ALL=C sort
	)
}

# _stream_is FILE WANT — FILE holds exactly WANT plus a final newline (or is empty
# when WANT is "").
_stream_is() {
	local got
	got=$(
		cat "$1"
		echo x
	)
	[ "$got" == "${2:+$2$'\n'}x" ]
}

# run_exact NAME WANT_RC WANT_STDOUT WANT_STDERR DIR CMD... — run CMD; its exit
# status, stdout and stderr must be exactly as given, and DIR must be left exactly
# as it was (use this for refusals and for read-only commands).
run_exact() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4 dir=$5 rc before after
	shift 5
	before=$(tree_state "$dir")
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	after=$(tree_state "$dir")
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc; stderr: $(cat "$T/.err")"
	elif ! _stream_is "$T/.err" "$want_err"; then
		fail "$name" "stderr: '$(cat "$T/.err")', want '$want_err'"
	elif ! _stream_is "$T/.out" "$want_out"; then
		fail "$name" "stdout: '$(cat "$T/.out")', want '$want_out'"
	elif [ "$before" != "$after" ]; then
		fail "$name" "$dir changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')"
	else
		pass "$name"
	fi
}

# refuse NAME WANT_RC WANT_STDERR DIR CMD... — CMD fails with WANT_RC, exactly one
# stderr line WANT_STDERR, nothing on stdout, and DIR untouched.
refuse() {
	local name=$1 want_rc=$2 want_err=$3 dir=$4
	shift 4
	run_exact "$name" "$want_rc" "" "$want_err" "$dir" "$@"
}

# run_ok NAME WANT_STDOUT CMD... — CMD exits 0, prints exactly WANT_STDOUT and
# nothing on stderr (it may write files).
run_ok() {
	local name=$1 want_out=$2 rc
	shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "$name" "exit $rc, want 0; stderr: $(cat "$T/.err")"
	elif ! _stream_is "$T/.err" ""; then
		fail "$name" "stderr: '$(cat "$T/.err")', want none"
	elif ! _stream_is "$T/.out" "$want_out"; then
		fail "$name" "stdout: '$(cat "$T/.out")', want '$want_out'"
	else
		pass "$name"
	fi
}

# ok_if NAME WHY CMD... — PASS when CMD succeeds, else FAIL with WHY.
ok_if() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

# not CMD... — succeeds when CMD fails (for ok_if).
not() { ! "$@"; }

# key_id FILE — the 16-hex-digit key id stored in a public key file (blob bytes
# 4..11, see include/keys.h), the id inspect prints.
key_id() {
	sed -n 2p "$1" | base64 -d | od -An -tx1 -j4 -N8 | tr -d ' \n'
}

# key_blob FILE — line 2 of a key file, decoded, as hex (no spaces).
key_blob_hex() {
	sed -n 2p "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'
}

# flip_byte FILE OFFSET — xor the byte at OFFSET with 0x01, in place.
flip_byte() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# key_flip SRC DST OFFSET — DST is key file SRC with byte OFFSET of its decoded
# line 2 flipped (a damaged key whose base64 is still valid).
key_flip() {
	local tmp="$T/.blob"
	sed -n 2p "$1" | base64 -d >"$tmp"
	flip_byte "$tmp" "$3"
	{
		sed -n 1p "$1"
		base64 -w0 "$tmp"
		echo
	} >"$2"
	rm -f "$tmp"
}

# le32 FILE OFFSET — the little-endian u32 at OFFSET.
le32() {
	local b0 b1 b2 b3
	read -r b0 b1 b2 b3 < <(od -An -tu1 -j"$2" -N4 "$1")
	echo $((b0 | b1 << 8 | b2 << 16 | b3 << 24))
}
