#!/bin/bash
# fresh-root.sh — the .deb on a fresh Debian 12 root made by the team's
# fresh-debian.sh (run by hand, as root; make check runs the same tests/pkg/inside.sh
# in a root of its own: tests/cli/pkg_root.sh).
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
# and then follows README.md's "Installing on a server" top to bottom: keys, dataset,
# config, check, the unit's ExecStart= and ExecReload= lines, logrotate, the DPO's
# audit verify over the rotated series, stop, purge keeping the evidence.
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
cp tests/pkg/inside.sh "$R/inside.sh"
(cd "$R" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm fresh) || exit 2
t0=$SECONDS
FRESH_TAIL=${FRESH_TAIL:-60} "$FRESH" "$R" 'bash inside.sh'
rc=$?
echo "fresh-root.sh: $((SECONDS - t0)) s in all (base root build included when it was not cached)"
exit $rc
