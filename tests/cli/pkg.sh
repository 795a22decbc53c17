#!/bin/bash
# pkg.sh — make install and make deb, without installing anything on this machine:
#   - make install-files install-dirs into a DESTDIR: the exact list of files, modes
#     and owners, the unit naming the installed binary, man -w finding both pages,
#     and a second install keeping an edited config;
#   - make deb-only: the exact contents, control fields, Depends against
#     dpkg-shlibdeps, conffiles, md5sums, the maintainer scripts (run for real in a
#     private mount namespace with empty /var/lib and /var/log: the folders they
#     make and, at purge, remove or keep), lintian clean;
#   - systemd-analyze verify of the packaged unit.
# Installing it into a fresh Debian 12 root is tests/cli/pkg_root.sh.
source "$(dirname "$0")/../lib/common.sh"
umask 022
version=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")
arch=$(dpkg --print-architecture)

# listing DIR — "mode owner:group path" of everything below DIR, sorted
listing() { (cd "$1" && find . -mindepth 1 -printf '%M %u:%g %P\n' | LC_ALL=C sort -k3); }

# ---- make install into a DESTDIR (PREFIX=/usr/local, the default)
S=$T/stage
make -s -C "$TOP" --no-print-directory install-files install-dirs DESTDIR="$S" >"$T/install.out" 2>&1
same install_exit_0 "$? $(grep -v '^install\|^sed\|^chmod' "$T/install.out")" "0 "
same install_listing "$(listing "$S")" "drwxr-xr-x root:root etc
drwxr-xr-x root:root etc/logrotate.d
-rw-r--r-- root:root etc/logrotate.d/protocolfs
drwxr-xr-x root:root etc/protocolfs
-rw-r--r-- root:root etc/protocolfs/mechelen.env
-rw-r--r-- root:root etc/protocolfs/mechelen.ini
drwxr-xr-x root:root usr
drwxr-xr-x root:root usr/local
drwxr-xr-x root:root usr/local/bin
-rwxr-xr-x root:root usr/local/bin/protocolfs
drwxr-xr-x root:root usr/local/lib
drwxr-xr-x root:root usr/local/lib/systemd
drwxr-xr-x root:root usr/local/lib/systemd/system
-rw-r--r-- root:root usr/local/lib/systemd/system/protocolfs@.service
drwxr-xr-x root:root usr/local/share
drwxr-xr-x root:root usr/local/share/doc
drwxr-xr-x root:root usr/local/share/doc/protocolfs
drwxr-xr-x root:root usr/local/share/doc/protocolfs/examples
-rw-r--r-- root:root usr/local/share/doc/protocolfs/examples/mechelen.env
-rw-r--r-- root:root usr/local/share/doc/protocolfs/examples/mechelen.ini
-rw-r--r-- root:root usr/local/share/doc/protocolfs/examples/protocol-mechelen-2021.ini
drwxr-xr-x root:root usr/local/share/man
drwxr-xr-x root:root usr/local/share/man/man1
-rw-r--r-- root:root usr/local/share/man/man1/protocolfs.1
drwxr-xr-x root:root usr/local/share/man/man5
-rw-r--r-- root:root usr/local/share/man/man5/protocolfs.ini.5
drwxr-xr-x root:root var
drwxr-xr-x root:root var/lib
drwxr-xr-x root:root var/lib/protocolfs
drwx------ root:root var/lib/protocolfs/state
drwx------ root:root var/lib/protocolfs/state/notices
drwxr-xr-x root:root var/log
drwxr-x--- root:root var/log/protocolfs"
same install_binary_is_built_one "$(cmp "$TOP/protocolfs" "$S/usr/local/bin/protocolfs" 2>&1)" ""
same install_man1_is_source "$(cmp "$TOP/conf/man/protocolfs.1" "$S/usr/local/share/man/man1/protocolfs.1" 2>&1)" ""
same install_config_is_sample "$(cmp "$TOP/conf/mechelen.ini" "$S/etc/protocolfs/mechelen.ini" 2>&1)" ""
same install_unit_execstart "$(grep '^ExecStart=' "$S/usr/local/lib/systemd/system/protocolfs@.service")" \
	'ExecStart=/usr/local/bin/protocolfs mount -f /etc/protocolfs/%i.ini ${MOUNTPOINT} -o ${OPTIONS}'
same install_unit_only_bindir_changed "$(diff "$TOP/conf/systemd/protocolfs@.service" \
	"$S/usr/local/lib/systemd/system/protocolfs@.service" | grep '^[<>]' | sed 's/ExecStart=.*protocolfs mount/X/')" "< X -f /etc/protocolfs/%i.ini \${MOUNTPOINT} -o \${OPTIONS}
> X -f /etc/protocolfs/%i.ini \${MOUNTPOINT} -o \${OPTIONS}"
same man_w_protocolfs "$(man -M "$S/usr/local/share/man" -w protocolfs)" "$S/usr/local/share/man/man1/protocolfs.1"
same man_w_protocolfs_ini "$(man -M "$S/usr/local/share/man" -w protocolfs.ini)" "$S/usr/local/share/man/man5/protocolfs.ini.5"
same man_renders_installed "$(MANWIDTH=80 man -M "$S/usr/local/share/man" protocolfs 2>&1 | sed -n '1p;/^COMMANDS$/p' | tr -s ' ')" "PROTOCOLFS(1) User Commands PROTOCOLFS(1)
COMMANDS"

# a second install keeps the city's edited config and the folders as they are
echo "; edited" >>"$S/etc/protocolfs/mechelen.ini"
chmod 0755 "$S/var/lib/protocolfs/state"
before=$(sha256sum "$S/etc/protocolfs/mechelen.ini")
make -s -C "$TOP" --no-print-directory install-files install-dirs DESTDIR="$S" >"$T/install2.out" 2>&1
same reinstall_keeps_config "$? $(sha256sum "$S/etc/protocolfs/mechelen.ini")" "0 $before"
same reinstall_says_kept "$(grep '^kept' "$T/install2.out")" "kept $S/etc/protocolfs/mechelen.ini (the sample is in /usr/local/share/doc/protocolfs/examples)
kept $S/etc/protocolfs/mechelen.env (the sample is in /usr/local/share/doc/protocolfs/examples)
kept $S/var/lib/protocolfs
kept $S/var/lib/protocolfs/state
kept $S/var/lib/protocolfs/state/notices
kept $S/var/log/protocolfs"
same reinstall_keeps_folder_mode "$(stat -c %a "$S/var/lib/protocolfs/state")" "755"

# make uninstall leaves only the configs and the daemon's folders
make -s -C "$TOP" --no-print-directory uninstall DESTDIR="$S" >"$T/uninstall.out" 2>&1
same uninstall_exit_0 "$? $(grep -v '^rm\|^kept' "$T/uninstall.out")" "0 "
same uninstall_leaves_config_and_folders "$(cd "$S" && find . -type f -o -type d -empty | LC_ALL=C sort | paste -sd' ')" \
	"./etc/logrotate.d ./etc/protocolfs/mechelen.env ./etc/protocolfs/mechelen.ini ./usr/local/bin ./usr/local/lib/systemd/system ./usr/local/share/doc ./usr/local/share/man/man1 ./usr/local/share/man/man5 ./var/lib/protocolfs/state/notices ./var/log/protocolfs"

# ---- make deb
make -s -C "$TOP" --no-print-directory deb-only DEB_DIR="$T/deb" >"$T/deb.out" 2>&1
DEB=$T/deb/protocolfs_${version}_$arch.deb
same deb_built "$? $(ls "$T/deb"/*.deb)" "0 $DEB"
same deb_contents "$(dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }')" "drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/logrotate.d/
-rw-r--r-- root/root ./etc/logrotate.d/protocolfs
drwxr-xr-x root/root ./etc/protocolfs/
-rw-r--r-- root/root ./etc/protocolfs/mechelen.env
-rw-r--r-- root/root ./etc/protocolfs/mechelen.ini
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/protocolfs@.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/protocolfs
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/protocolfs/
-rw-r--r-- root/root ./usr/share/doc/protocolfs/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/protocolfs/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/protocolfs/copyright
drwxr-xr-x root/root ./usr/share/doc/protocolfs/examples/
-rw-r--r-- root/root ./usr/share/doc/protocolfs/examples/mechelen.env
-rw-r--r-- root/root ./usr/share/doc/protocolfs/examples/mechelen.ini
-rw-r--r-- root/root ./usr/share/doc/protocolfs/examples/protocol-mechelen-2021.ini
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/protocolfs.1.gz
drwxr-xr-x root/root ./usr/share/man/man5/
-rw-r--r-- root/root ./usr/share/man/man5/protocolfs.ini.5.gz"
same deb_control "$(dpkg-deb -f "$DEB" Package Version Architecture Maintainer Depends Recommends Section Priority)" \
	"Package: protocolfs
Version: $version
Architecture: $arch
Maintainer: protocolfs developers <protocolfs@example.org>
Depends: libc6 (>= 2.34), libfuse3-3 (>= 3.12.0), libiniparser1 (>= 4.1), libsodium23 (>= 1.0.14), fuse3, procps
Recommends: logrotate
Section: admin
Priority: optional"
X=$T/x
dpkg-deb -x "$DEB" "$X"
dpkg-deb -e "$DEB" "$T/ctrl"
same deb_installed_size "$(dpkg-deb -f "$DEB" Installed-Size)" "$(du -sk "$X" | cut -f1)"
same deb_conffiles "$(cat "$T/ctrl/conffiles")" "/etc/logrotate.d/protocolfs
/etc/protocolfs/mechelen.env
/etc/protocolfs/mechelen.ini"
same deb_md5sums "$(cd "$X" && md5sum --quiet -c "$T/ctrl/md5sums" 2>&1; awk '{ print $2 }' "$T/ctrl/md5sums" | paste -sd' ')" \
	"$(cd "$X" && find usr lib -type f | LC_ALL=C sort | paste -sd' ')"
same deb_binary_stripped "$(readelf -S "$X/usr/bin/protocolfs" | grep -cE "\.(symtab|debug_info)")" "0"
same deb_man_is_source "$(zcat "$X/usr/share/man/man5/protocolfs.ini.5.gz" | cmp - "$TOP/conf/man/protocolfs.ini.5" 2>&1)" ""
same deb_changelog_version "$(zcat "$X/usr/share/doc/protocolfs/changelog.gz" | head -1)" "protocolfs ($version) bookworm; urgency=medium"
same deb_unit_execstart "$(grep '^ExecStart=' "$X/lib/systemd/system/protocolfs@.service")" \
	'ExecStart=/usr/bin/protocolfs mount -f /etc/protocolfs/%i.ini ${MOUNTPOINT} -o ${OPTIONS}'

# Depends: the shared libraries as dpkg-shlibdeps computes them (without the
# sanitizer runtimes of a SANITIZE=1 build), plus fuse3 (fusermount3, mount.fuse3)
# and procps (/bin/kill in ExecReload, pkill in the logrotate file)
mkdir -p "$T/shl/debian" && printf 'Source: protocolfs\n\nPackage: protocolfs\nArchitecture: any\n' >"$T/shl/debian/control"
shl=$(cd "$T/shl" && dpkg-shlibdeps -O "$X/usr/bin/protocolfs" 2>&1 | sed -n 's/^shlibs:Depends=//p' |
	tr ',' '\n' | sed 's/^ //' | grep -vE '^(libasan|libubsan|libgcc-s1|libstdc\+\+)' | paste -sd',' | sed 's/,/, /g')
same deb_depends_shlibdeps "$shl, fuse3, procps" "$(dpkg-deb -f "$DEB" Depends)"

for s in postinst prerm postrm; do
	out=$(sh -n "$T/ctrl/$s" 2>&1 && grep -nE '@[A-Z_]+@' "$T/ctrl/$s")
	same "deb_${s}_syntax_and_filled_in" "$out" ""
done
same deb_postinst_dirs "$(grep '^PFS_DIRS=' "$T/ctrl/postinst")" \
	'PFS_DIRS="0755:/var/lib/protocolfs 0700:/var/lib/protocolfs/state 0700:/var/lib/protocolfs/state/notices 0750:/var/log/protocolfs"'
same deb_postinst_user "$(grep -E '^PFS_(USER|GROUP)=' "$T/ctrl/postinst" | paste -sd' ')" "PFS_USER=root PFS_GROUP=root"

# ---- the maintainer scripts, run for real where /var/lib and /var/log are empty
# tmpfs (a private mount namespace: nothing outside it sees them; dpkg's database
# is bound back in, read by dpkg-statoverride)
cat >"$T/scripts.sh" <<'EOS'
set -u
C=$1
mkdir -p "$C/dpkg-db" && mount --bind /var/lib/dpkg "$C/dpkg-db" || exit 2
mount -t tmpfs tmpfs /var/lib && mkdir /var/lib/dpkg && mount --bind "$C/dpkg-db" /var/lib/dpkg || exit 2
mount -t tmpfs tmpfs /var/log || exit 2
state() { find /var/lib/protocolfs /var/log/protocolfs -printf '%M %u:%g %p\n' 2>/dev/null | LC_ALL=C sort -k3; }
echo "== configure"; sh "$C/postinst" configure; echo "rc $?"; state
chmod 0777 /var/lib/protocolfs/state
echo "== configure again"; sh "$C/postinst" configure; echo "rc $?"; state
echo "== prerm remove"; sh "$C/prerm" remove; echo "rc $?"
echo "== postrm remove"; sh "$C/postrm" remove; echo "rc $?"; state
echo "== postrm purge"; sh "$C/postrm" purge; echo "rc $?"; state; ls /var/lib | grep -v '^dpkg$'
sh "$C/postinst" configure && echo '{"seq":1}' >/var/log/protocolfs/audit.log
echo "== postrm purge with a log"; sh "$C/postrm" purge 2>&1; echo "rc $?"; state
EOS
got=$(unshare --mount --propagation private bash "$T/scripts.sh" "$T/ctrl" 2>&1)
same deb_maintainer_scripts "$got" "== configure
rc 0
drwxr-xr-x root:root /var/lib/protocolfs
drwx------ root:root /var/lib/protocolfs/state
drwx------ root:root /var/lib/protocolfs/state/notices
drwxr-x--- root:root /var/log/protocolfs
== configure again
rc 0
drwxr-xr-x root:root /var/lib/protocolfs
drwx------ root:root /var/lib/protocolfs/state
drwx------ root:root /var/lib/protocolfs/state/notices
drwxr-x--- root:root /var/log/protocolfs
== prerm remove
rc 0
== postrm remove
rc 0
drwxr-xr-x root:root /var/lib/protocolfs
drwx------ root:root /var/lib/protocolfs/state
drwx------ root:root /var/lib/protocolfs/state/notices
drwxr-x--- root:root /var/log/protocolfs
== postrm purge
rc 0
== postrm purge with a log
protocolfs: kept /var/log/protocolfs (not empty: audit log or state)
rc 0
drwxr-x--- root:root /var/log/protocolfs
-rw-r--r-- root:root /var/log/protocolfs/audit.log"
same deb_scripts_left_host_alone "$(grep -c ' /var/lib ' /proc/self/mountinfo)" "0"

# ---- lintian (its only other line is the warning that it runs as root)
out=$(lintian -I -E --pedantic --color never "$DEB" 2>&1 | grep -v '^running with root privileges is not recommended!$')
same deb_lintian_clean "$out" ""

# ---- systemd-analyze verify: the packaged unit as protocolfs@mechelen, its binary
# and man pages taken from the extracted package (nothing is installed here)
V=$T/units
mkdir -p "$V"
sed "s|^ExecStart=/usr/bin/protocolfs |ExecStart=$X/usr/bin/protocolfs |" "$X/lib/systemd/system/protocolfs@.service" >"$V/protocolfs@.service"
ln -s protocolfs@.service "$V/protocolfs@mechelen.service"
out=$(MANPATH=$X/usr/share/man systemd-analyze verify "$V/protocolfs@mechelen.service" 2>&1)
same unit_verify "$? $out" "0 "
# the check has teeth: a misspelt setting is reported
sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$V/protocolfs@.service" >"$V/typo@.service"
ln -s typo@.service "$V/typo@mechelen.service"
out=$(MANPATH=$X/usr/share/man systemd-analyze verify "$V/typo@mechelen.service" 2>&1)
grep -q "Unknown key 'NoNewPrivilege'" <<<"$out" && pass unit_verify_catches_typo || fail unit_verify_catches_typo "got: $out"
exit $FAILED
