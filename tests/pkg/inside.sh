#!/bin/bash
# inside.sh [DIR] — run as root inside a fresh Debian 12 root that can reach Debian's
# mirror, with DIR (default /root/project) holding protocolfs_*.deb and `contents`
# (its paths, one a line). Installs the package with apt-get, checks it, removes and
# purges it, then follows README.md's "Installing on a server". Used by
# tests/cli/pkg_root.sh (make check) and tests/pkg/fresh-root.sh (by hand).
set -u
D=${1:-/root/project}
pass=0 failed=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
no() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
same() { if [ "$2" == "$3" ]; then ok "$1"; else no "$1" "got '$2', want '$3'"; fi; }
export DEBIAN_FRONTEND=noninteractive
# every path of the root but the kernel's, apt's and dpkg's own and this folder
snap() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
		-o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /root \
		-o -path /var/log/apt -o -path /var/log/dpkg.log -o -path /var/log/alternatives.log \) -prune -o -print |
		LC_ALL=C sort
}
t0=$SECONDS
apt-get update -q >/dev/null 2>&1 && ok apt_update || { no apt_update "apt-get update failed"; exit 1; }
apt-get install -y -q --no-install-recommends man-db >/dev/null 2>&1 && ok install_man_db || no install_man_db "failed"
deb=$(ls $D/protocolfs_*.deb)
apt-get install -y -q --no-install-recommends "$deb" >/root/apt.log 2>&1
same apt_install_deb "$?" 0
same installed_with_deps "$(awk '/^Setting up / { sub(/:.*/, "", $3); print $3 }' /root/apt.log | LC_ALL=C sort | paste -sd' ')" \
	"fuse3 libfuse3-3 libiniparser1 libncursesw6 libproc2-0 libsodium23 procps protocolfs"
same dpkg_status "$(dpkg-query -W -f='${Status} ${Version}' protocolfs)" "install ok installed $(dpkg-deb -f "$deb" Version)"
out=$(protocolfs --help)
[ $? = 0 ] && grep -q '^commands:$' <<<"$out" && ok help || no help "exit or output: $out"
same version "$(protocolfs --version)" "protocolfs $(dpkg-deb -f "$deb" Version)"
same man_w "$(man -w protocolfs)" "/usr/share/man/man1/protocolfs.1.gz"
same man_w_ini "$(man -w protocolfs.ini)" "/usr/share/man/man5/protocolfs.ini.5.gz"
same man_renders "$(MANWIDTH=80 man protocolfs 2>&1 >/dev/null)" ""
same folders "$(stat -c '%A %U:%G %n' /var/lib/protocolfs /var/lib/protocolfs/state /var/lib/protocolfs/state/notices /var/log/protocolfs)" \
	"drwxr-xr-x root:root /var/lib/protocolfs
drwx------ root:root /var/lib/protocolfs/state
drwx------ root:root /var/lib/protocolfs/state/notices
drwxr-x--- root:root /var/log/protocolfs"
same conffiles "$(dpkg-query -W -f='${Conffiles}' protocolfs | awk 'NF { print $1 }' | paste -sd' ')" \
	"/etc/logrotate.d/protocolfs /etc/protocolfs/mechelen.env /etc/protocolfs/mechelen.ini"
same unit_installed "$(grep '^ExecStart=' /lib/systemd/system/protocolfs@.service)" \
	'ExecStart=/usr/bin/protocolfs mount -f /etc/protocolfs/%i.ini ${MOUNTPOINT} -o ${OPTIONS}'
out=$(protocolfs check /etc/protocolfs/mechelen.ini 2>&1)
same check_sample_names_missing_dataset "$? $out" "2 protocolfs: check: /etc/protocolfs/mechelen.ini: [dataset] path: /var/lib/protocolfs/inburgering.pfs: No such file or directory"

# remove, purge: the first time after apt-get installed it with its dependencies
dpkg -r protocolfs >/dev/null 2>&1
same dpkg_r "$?" 0
kept=""
for p in /etc/protocolfs/mechelen.ini /etc/logrotate.d/protocolfs /var/lib/protocolfs/state /var/log/protocolfs; do
	[ -e "$p" ] && kept="$kept $p"
done
same dpkg_r_keeps_conffiles_and_folders "$kept" " /etc/protocolfs/mechelen.ini /etc/logrotate.d/protocolfs /var/lib/protocolfs/state /var/log/protocolfs"
same dpkg_r_removes_binary "$(ls /usr/bin/protocolfs 2>/dev/null)" ""
dpkg -P protocolfs >/dev/null 2>&1
same dpkg_P "$?" 0
same dpkg_P_status "$(dpkg-query -W -f='${Status}' protocolfs 2>&1)" "dpkg-query: no packages found matching protocolfs"
left=""
while read -r p; do [ -e "$p" ] || [ -L "$p" ] && ! dpkg -S "$p" >/dev/null 2>&1 && left="$left $p"; done <"$D/contents"
same no_package_file_left "$left" ""
same no_folders_left "$(ls -d /var/lib/protocolfs /var/log/protocolfs /etc/protocolfs 2>/dev/null)" ""

# the second time, with its dependencies in place: the root after dpkg -i, -r, -P
# is exactly the root before
snap >/root/before
dpkg -i "$deb" >/dev/null 2>&1
same dpkg_i "$?" 0
dpkg -r protocolfs >/dev/null 2>&1 && dpkg -P protocolfs >/dev/null 2>&1
same dpkg_r_P_again "$?" 0
snap >/root/after
same nothing_left "$(LC_ALL=C comm -3 /root/before /root/after | paste -sd' ')" ""

# ---- README.md, "Installing on a server", step by step (the agency's part played
# here too; no systemd in a chroot: the unit's ExecStart= line is run as systemd would)
apt-get install -y -q --no-install-recommends "$deb" logrotate >/dev/null 2>&1
same readme_install "$?" 0
useradd -M -s /usr/sbin/nologin trajectbegeleiders && useradd -M -s /usr/sbin/nologin projectmedewerkers &&
	groupadd partners
mkdir -p /root/agency && cd /root/agency || exit 1
protocolfs keygen issuer agii >/dev/null
sed -e "s/^start = .*/start = $(date -u -d '-30 days' +%F)/" -e "s/^end = .*/end = $(date -u -d '+365 days' +%F)/" \
	/usr/share/doc/protocolfs/examples/protocol-mechelen-2021.ini >protocol.ini
printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;status_mo;gedeeld_op\r\n' >export.csv
printf 'INB0000001;Amina;Haddad;Bruul 12, 2800 Mechelen;+32 470 12 34 56;a@example.be;Arabisch;A2;bezig;%s\r\n' \
	"$(date -u -d '-10 days' +%F)" >>export.csv
cd /etc/protocolfs || exit 1
(umask 077; head -c 32 /dev/urandom | base64 >mechelen.pass)
protocolfs keygen recipient mechelen --passphrase-file mechelen.pass >/dev/null
cp /root/agency/agii.pub . && chmod 0644 agii.pub
same readme_keys "$(stat -c '%a %U %n' mechelen.key mechelen.pass agii.pub | paste -sd' ')" "600 root mechelen.key 600 root mechelen.pass 644 root agii.pub"
protocolfs seal --protocol /root/agency/protocol.ini --issuer-key /root/agency/agii.key --recipient mechelen.pub \
	--serial 1 /root/agency/export.csv /root/agency/inburgering.pfs >/dev/null
install -m 0644 /root/agency/inburgering.pfs /var/lib/protocolfs/inburgering.pfs
sed -i 's|^; passphrase_file = |passphrase_file = |' mechelen.ini
out=$(protocolfs check /etc/protocolfs/mechelen.ini 2>&1)
same readme_check "$? $(grep -c '^  [a-z]' <<<"$out")" "0 4"
mkdir /srv/inburgering
# the unit's ExecStart= with %i = mechelen and the variables of mechelen.env
. /etc/protocolfs/mechelen.env
cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/protocolfs@.service)
cmd=${cmd//%i/mechelen}
cmd=${cmd//\$\{MOUNTPOINT\}/$MOUNTPOINT}
cmd=${cmd//\$\{OPTIONS\}/$OPTIONS}
same readme_unit_command "$cmd" "/usr/bin/protocolfs mount -f /etc/protocolfs/mechelen.ini /srv/inburgering -o allow_other"
(umask 077; exec $cmd 2>/root/daemon.err) &
MAINPID=$!
for i in $(seq 100); do grep -q ' /srv/inburgering .* fuse.protocolfs ' /proc/self/mountinfo && break; sleep 0.1; done
same readme_mounted "$(awk '$5 == "/srv/inburgering" { print $(NF-2) }' /proc/self/mountinfo)" "fuse.protocolfs"
as_tb() { setpriv --reuid=trajectbegeleiders --regid=$(id -g trajectbegeleiders) --init-groups -- "$@"; }
same readme_staff_reads "$(as_tb head -n1 /srv/inburgering/INB0000001.txt 2>&1)" "voornaam: Amina"
same readme_verify_key_written "$(stat -c '%a %U' /var/lib/protocolfs/audit-verify.key 2>&1)" "600 root"
same readme_audit_log "$(stat -c '%a %U' /var/log/protocolfs/audit.log 2>&1)" "600 root"
# systemctl reload = the unit's ExecReload=
reload=$(sed -n 's/^ExecReload=//p' /lib/systemd/system/protocolfs@.service)
sed -i 's/^first_name = voornaam$/first_name = Voornaam/' /etc/protocolfs/mechelen.ini
${reload//\$MAINPID/$MAINPID}
for i in $(seq 50); do
	got=$(as_tb head -n1 /srv/inburgering/INB0000001.txt 2>/dev/null)
	[ "$got" = "Voornaam: Amina" ] && break
	sleep 0.1
done
same readme_reload "$got" "Voornaam: Amina"
# log rotation with the packaged logrotate file, then the DPO's verify of the series
logrotate -f /etc/logrotate.d/protocolfs
same readme_logrotate "$?" 0
as_tb cat /srv/inburgering/INB0000001.txt >/dev/null
out=$(protocolfs audit verify --key /var/lib/protocolfs/audit-verify.key /var/log/protocolfs/audit.log-2* /var/log/protocolfs/audit.log 2>&1)
same readme_verify_series "$? $(ls /var/log/protocolfs | wc -l) ${out##* }" "0 2 verified"
# systemctl stop = SIGTERM; the daemon's only message was about logrotate's SIGHUP
kill -TERM $MAINPID
wait $MAINPID
same readme_stop "$? $(grep -c ' /srv/inburgering ' /proc/self/mountinfo)" "0 0"
same readme_daemon_stderr "$(cat /root/daemon.err)" ""
# uninstall: purge keeps the audit log and the state
dpkg -r protocolfs >/dev/null 2>&1 && dpkg -P protocolfs >/root/purge.out 2>&1
same readme_purge "$? $(grep '^protocolfs: kept' /root/purge.out | paste -sd' ')" \
	"0 protocolfs: kept /var/log/protocolfs (not empty: audit log or state) protocolfs: kept /var/lib/protocolfs/state (not empty: audit log or state) protocolfs: kept /var/lib/protocolfs (not empty: audit log or state)"
same readme_purge_keeps_evidence "$(ls /var/log/protocolfs | wc -l) $(ls /var/lib/protocolfs | paste -sd' ')" "2 audit-verify.key inburgering.pfs state"
echo "inside the root: $((SECONDS - t0)) s"
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
