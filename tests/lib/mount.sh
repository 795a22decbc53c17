# mount.sh — sourced by tests/mount/*.sh after common.sh: a real mount of a small
# dataset, with real users and groups of different profiles.
#
#   fixture_users     create pfs_tb (trajectbegeleider, by name), pfs_pm
#                     (projectmedewerker, by uid), pfs_pa (partner, through group
#                     pfs_partners), pfs_no (no profile); removed on exit
#   fixture_dataset   keys, CSV, protocol whose window holds today, sealed dataset
#   fixture_config    $T/city.ini with the four sample profiles
#   mount_start [OPTS] mount $T/city.ini at $MNT in the foreground (-f), wait for it
#   mount_stop        fusermount3 -u, then require the daemon to exit 0
#   as USER CMD...    run CMD as USER (setpriv, real ids, supplementary groups)
MNT="$T/mnt"
DAEMON_PID=""
DAEMON_ERR="$T/daemon.err"

today() { date -u +%Y-%m-%d; }
days_from_today() { date -u -d "$1 days" +%Y-%m-%d; }

fixture_users() {
	local u
	# The users are machine-wide: one test file at a time holds them (the lock is
	# released when the test's shell exits).
	exec 9>/run/protocolfs-test-users.lock
	flock 9
	for u in pfs_tb pfs_pm pfs_pa pfs_no; do userdel "$u" >/dev/null 2>&1; done
	groupdel pfs_partners >/dev/null 2>&1
	groupadd pfs_partners
	useradd -M -N -g nogroup -s /usr/sbin/nologin pfs_tb
	useradd -M -N -g nogroup -s /usr/sbin/nologin pfs_pm
	useradd -M -N -g nogroup -G pfs_partners -s /usr/sbin/nologin pfs_pa
	useradd -M -N -g nogroup -s /usr/sbin/nologin pfs_no
	on_exit "for u in pfs_tb pfs_pm pfs_pa pfs_no; do userdel \$u >/dev/null 2>&1; done; groupdel pfs_partners >/dev/null 2>&1"
}

as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
}

# The CSV: three persons with known values; one value holds a line break and a
# backslash (escaped in the files), one has an empty e-mail.
fixture_csv() {
	local d
	d=$(days_from_today -10)
	{
		printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\r\n'
		printf 'INB0000001;Amina;Haddad;"Bruul 12; bus 3\n2800 Mechelen";+32 470 12 34 56;amina.haddad@example.be;Arabisch;A2;bezig;%s\r\n' "$d"
		printf 'INB0000002;Oleksandra;Kovalenko;Hoogstraat 5 \\ achterhuis, 2800 Mechelen;+32 471 00 00 01;;Oekraïens;geen;niet gestart;%s\r\n' "$d"
		printf 'INB0000003;Şükrü;Yılmaz;Nekkerspoel 1, 2800 Mechelen;+32 499 99 99 99;sukru@example.be;Turks;B1;geslaagd;%s\r\n' "$d"
	} >"$T/export.csv"
}

fixture_dataset() {
	"$PFS" keygen issuer "$T/agii" >/dev/null || return 1
	"$PFS" keygen recipient "$T/city" >/dev/null || return 1
	sed -e "s/^start = .*/start = $(days_from_today -30)/" -e "s/^end = .*/end = $(days_from_today 365)/" \
		"$PROTOCOL" >"$T/protocol.ini"
	fixture_csv
	"$PFS" seal --protocol "$T/protocol.ini" --issuer-key "$T/agii.key" --recipient "$T/city.pub" \
		--serial 1 "$T/export.csv" "$T/dataset.pfs" >/dev/null
}

fixture_config() {
	mkdir -p "$T/state" "$MNT"
	cat >"$T/city.ini" <<EOC
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
users = pfs_tb

[profile:projectmedewerker]
description = Projectmedewerkers
fields = first_name, last_name, phone, email, contact_language, dutch_level, mo_status
users = $(id -u pfs_pm)

[profile:partner]
description = Partnerorganisaties
fields = first_name, contact_language, dutch_level
groups = pfs_partners

[profile:beheerder]
description = Beheerder
fields =
users = root
EOC
}

# Is $MNT a protocolfs mount? (field 5 is the mount point; the type follows " - ")
is_mounted() {
	awk -v m="$MNT" '$5 == m && / - fuse\.protocolfs / { f = 1 } END { exit !f }' /proc/self/mountinfo
}

mount_wait() {
	local i
	for i in $(seq 1 100); do
		is_mounted && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

mount_start() {
	"$PFS" mount "$T/city.ini" "$MNT" -f -o "${1:-allow_other}" 2>"$DAEMON_ERR" &
	DAEMON_PID=$!
	on_exit "fusermount3 -u -z '$MNT' 2>/dev/null; kill $DAEMON_PID 2>/dev/null"
	mount_wait || { echo "FAIL mount_start: $(cat "$DAEMON_ERR")"; FAILED=1; return 1; }
}

# Unmount and require a clean daemon exit (0) with nothing on stderr.
mount_stop() {
	local rc
	fusermount3 -u "$MNT" || return 1
	wait "$DAEMON_PID"
	rc=$?
	[ "$rc" = 0 ] || { echo "FAIL mount_stop: daemon exit $rc: $(cat "$DAEMON_ERR")"; FAILED=1; return 1; }
	if grep -vE '^$' "$DAEMON_ERR" | grep -q .; then
		echo "FAIL mount_stop: daemon stderr: $(cat "$DAEMON_ERR")"
		FAILED=1
		return 1
	fi
	return 0
}
