# timelib.bash — sourced by tests/mount/time*.sh, reload*.sh and tests/cli/purge*.sh
# after common.sh and mount.sh: a daemon whose clock is moved with libfaketime.
#
#   ft_init [TZ]          the daemon's own TZ (default UTC) and the faked-time file
#   ft_set UTC            move the daemon's clock to a UTC instant ("2022-06-30 21:59:58")
#   ft_set_bxl LOCAL      the same, given as Brussels civil time
#   ft_env CMD...         run CMD with the daemon's faked clock (mount refusals, check)
#   ft_mount_start CFG    mount CFG at $MNT in the foreground under the faked clock
#   ft_mount_stop         fusermount3 -u and wait for the daemon (exit status in $DAEMON_RC)
#   seal_csv PROTO CSV OUT SERIAL [KEY]   seal with the test's keys
#   make_config NAME [DATASET] [EXTRA]   $T/NAME.ini: own state folder, audit log and key
#   audit_events LOG EVENT      the audit lines of one event, as "result|reason|record|detail"
#   wait_for SECONDS CMD...     poll CMD every 0.1 s until it succeeds
#   count_ge N CMD...           CMD prints a number >= N (for wait_for: evaluated each time)
#   n_events LOG EVENT          how many audit lines of EVENT
#   listing USER                the names USER sees in $MNT, space-separated
#   make_protocol OUT START END [ID]   the seed protocol with another window and id
#   write_csv OUT ID:DATE[:NAME]...    an export, one row per argument
#   keys_make                   $T/agii (issuer) and $T/city (recipient) key pairs
#   xattr USER NAME FILE        user.protocolfs.NAME of $MNT/FILE as USER
#   pfs_mount_start CFG         mount on the real clock (reload tests)
#   replace SRC DST             copy SRC over DST atomically (a rename)
#
# The thread-safe variant: with FAKETIME_NO_CACHE the plain libfaketime.so.1
# re-parses its spec unlocked, and concurrent threads then read the real clock now
# and then (measured: about 1 read in 500 with 4 threads), which would move the
# daemon's high-water mark of time to today.
FT_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
PY3=/usr/bin/python3 # the system interpreter: other users cannot run root's pyenv shims
PY4="$TOP/tests/mount/py4"
FT_FILE="$T/faketime"
DTZ=UTC

ft_init() {
	DTZ=${1:-UTC}
	[ -r "$FT_LIB" ] || {
		fail faketime_present "$FT_LIB missing (Debian package libfaketime)"
		exit 1
	}
}

# The faked clock is an offset from the real one ("+N.NNN" seconds), computed when
# it is set: every thread of the daemon then reads the same time, running on from
# the instant given. The file is replaced atomically: the daemon re-reads it on
# every clock read (FAKETIME_NO_CACHE) and must never see it empty (that would be
# the real clock, and the high-water mark of time would jump to it).
_ft_write_epoch() {
	local now
	now=$(date +%s.%N)
	awk -v t="$1" -v n="$now" 'BEGIN { printf "%+.6f\n", t - n }' >"$FT_FILE.new" && mv -f "$FT_FILE.new" "$FT_FILE"
}
ft_set() { _ft_write_epoch "$(date -u -d "$1 UTC" +%s)"; }
ft_set_bxl() { _ft_write_epoch "$(TZ=Europe/Brussels date -d "$1" +%s)"; }
ft_set_epoch() { _ft_write_epoch "$1"; }

ft_env() {
	env TZ="$DTZ" LD_PRELOAD="$FT_LIB" FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 \
		FAKETIME_TIMESTAMP_FILE="$FT_FILE" FAKETIME_NO_CACHE=1 "$@"
}

ft_mount_start() {
	# env itself (not the ft_env function) in the background: $! is the daemon's pid
	env TZ="$DTZ" LD_PRELOAD="$FT_LIB" FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 \
		FAKETIME_TIMESTAMP_FILE="$FT_FILE" FAKETIME_NO_CACHE=1 \
		"$PFS" mount "$1" "$MNT" -f -o allow_other 2>"$DAEMON_ERR" &
	DAEMON_PID=$!
	on_exit "fusermount3 -u -z '$MNT' 2>/dev/null; kill $DAEMON_PID 2>/dev/null"
	mount_wait || {
		fail "mount_start" "$(cat "$DAEMON_ERR")"
		return 1
	}
}

ft_mount_stop() {
	fusermount3 -u "$MNT" || {
		DAEMON_RC=unmount-failed
		return 1
	}
	wait "$DAEMON_PID"
	DAEMON_RC=$?
	[ "$DAEMON_RC" = 0 ]
}

seal_csv() {
	"$PFS" seal --protocol "$1" --issuer-key "${5:-$T/agii.key}" --recipient "$T/city.pub" \
		--serial "$4" --force "$2" "$3" >/dev/null
}

# make_config NAME [DATASET] [EXTRA-DATASET-LINES] — $T/NAME.ini over DATASET
# (default dataset.pfs, relative to $T) with state folder $T/NAME.state, audit log
# $T/NAME.log and audit key $T/NAME.audit.key; prints its path.
make_config() {
	local name=$1 ds=${2:-dataset.pfs} extra=${3:-}
	mkdir -p "$T/$name.state" "$MNT"
	fixture_config
	sed -e "s|^path = .*|path = $ds|" -e "s|^state_dir = .*|state_dir = $name.state|" -e "s|^log = .*|log = $name.log|" \
		-e "s|^verify_key = .*|verify_key = $name.audit.key|" "$T/city.ini" >"$T/$name.ini"
	if [ -n "$extra" ]; then
		awk -v x="$extra" '{ print } /^state_dir = / { print x }' "$T/$name.ini" >"$T/$name.ini.new" &&
			mv "$T/$name.ini.new" "$T/$name.ini"
	fi
	chmod 644 "$T/$name.ini"
	echo "$T/$name.ini"
}

# audit_events LOG EVENT — one line per audit line of EVENT: result|reason|record|detail
audit_events() {
	$PY3 - "$1" "$2" <<'PYEOF'
import json, sys
path, event = sys.argv[1:3]
try:
    lines = open(path, encoding="utf-8").read().splitlines()
except OSError:
    lines = []
for l in lines:
    try:
        j = json.loads(l)
    except ValueError:
        continue
    if j.get("event") == event:
        print("|".join("" if j.get(k) is None else str(j.get(k)) for k in ("result", "reason", "record", "detail")))
PYEOF
}

count_ge() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ]
}
n_events() { audit_events "$1" "$2" | wc -l; }

wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# The names a user sees in $MNT, space-separated.
listing() { as "$1" ls "$MNT" 2>&1 | tr '\n' ' '; }

# make_protocol OUT START END [ID] — the seed protocol with another window (and id).
make_protocol() {
	sed -e "s/^start = .*/start = $2/" -e "s/^end = .*/end = $3/" \
		-e "0,/^id = .*/s//id = ${4:-AGII-MECHELEN-AMIF507}/" "$PROTOCOL" >"$1"
}

# write_csv OUT ID:SHARED_ON[:FIRST_NAME]... — an export with one row per argument.
write_csv() {
	local out=$1 r id rest day name
	shift
	{
		printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\r\n'
		for r; do
			id=${r%%:*}
			rest=${r#*:}
			day=${rest%%:*}
			name=${rest#*:}
			[ "$name" = "$rest" ] && name="Voornaam-$id"
			printf '%s;%s;Achternaam;Straat 1, 2800 Mechelen;+32 470 00 00 00;%s@example.be;Arabisch;A1;bezig;%s\r\n' \
				"$id" "$name" "$id" "$day"
		done
	} >"$out"
}

# keys_make — $T/agii.{key,pub} (issuer), $T/city.{key,pub} (recipient).
keys_make() {
	"$PFS" keygen issuer "$T/agii" >/dev/null && "$PFS" keygen recipient "$T/city" >/dev/null
}

# xattr USER NAME FILE — the value of one of our attributes, or the error.
xattr() { as "$1" getfattr --absolute-names --only-values -n "user.protocolfs.$2" "$MNT/$3" 2>&1; }

# pfs_mount_start CFG — mount CFG at $MNT in the foreground on the real clock.
pfs_mount_start() {
	"$PFS" mount "$1" "$MNT" -f -o allow_other 2>"$DAEMON_ERR" &
	DAEMON_PID=$!
	on_exit "fusermount3 -u -z '$MNT' 2>/dev/null; kill $DAEMON_PID 2>/dev/null"
	mount_wait || {
		fail "mount_start" "$(cat "$DAEMON_ERR")"
		return 1
	}
}

# replace SRC DST — put a copy of SRC in place of DST atomically (rename).
replace() { cp "$1" "$2.new.tmp" && mv -f "$2.new.tmp" "$2"; }
