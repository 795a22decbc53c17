#!/bin/bash
# fresh-root.sh — the .deb on a fresh Debian 12 root (run by hand, as root; not part
# of make check: it needs Debian's mirror and takes a few minutes).
#
#   tests/pkg/fresh-root.sh [FRESH_DEBIAN]
#
# Builds the package here (make deb), then, in a minimal bookworm root made by
# FRESH_DEBIAN (default ../shared/tools/fresh-debian.sh: debootstrap minbase, a
# chroot with its own PID and mount namespaces), as an admin would:
#   apt-get install ./protocolfs_*.deb    Depends resolve from the mirror
#   protocolfs --help, --version          the binary runs with its libraries
#   man -w protocolfs, protocolfs.ini     the pages are found (man-db installed first)
#   the state and log folders             made by postinst, modes and owners
#   dpkg -r                               conffiles and folders stay (Debian's rule)
#   dpkg -P                               nothing of the package is left; and after a
#                                         second dpkg -i, -r, -P (its dependencies now
#                                         in place) the root is exactly as before
# Prints PASS/FAIL lines and "N passed, N failed"; exit 0 only when all passed.
set -u
cd "$(dirname "$0")/../.." || exit 2
FRESH=${1:-$(pwd)/../shared/tools/fresh-debian.sh}
[ "$(id -u)" = 0 ] || { echo "fresh-root.sh: run as root" >&2; exit 2; }
[ -x "$FRESH" ] || { echo "fresh-root.sh: no $FRESH" >&2; exit 2; }
make -s deb >/dev/null || { echo "FAIL make_deb"; exit 1; }
version=$(sed -n 's/^VERSION *= *//p' Makefile)
deb=build/protocolfs_${version}_$(dpkg --print-architecture).deb

# fresh-debian.sh runs a clone of a git repository: one holding the package and the
# script below.
R=$(mktemp -d /tmp/pfs-fresh-root.XXXXXX)
trap 'rm -rf "$R"' EXIT
cp "$deb" "$R/"
dpkg-deb -c "$deb" | awk '{ p = substr($6, 2); sub(/\/$/, "", p); if (p != "") print p }' >"$R/contents"
cat >"$R/inside.sh" <<'EOF'
#!/bin/bash
set -u
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
deb=$(ls /root/project/protocolfs_*.deb)
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
while read -r p; do [ -e "$p" ] || [ -L "$p" ] && ! dpkg -S "$p" >/dev/null 2>&1 && left="$left $p"; done </root/project/contents
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
echo "inside the root: $((SECONDS - t0)) s"
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
EOF
(cd "$R" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm fresh) || exit 2
t0=$SECONDS
FRESH_TAIL=${FRESH_TAIL:-60} "$FRESH" "$R" 'bash inside.sh'
rc=$?
echo "fresh-root.sh: $((SECONDS - t0)) s in all (base root build included when it was not cached)"
exit $rc
