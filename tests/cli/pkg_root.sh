#!/bin/bash
# pkg_root.sh — the .deb in a fresh Debian 12 root (tests/pkg/inside.sh): apt-get
# install resolving its Depends from the mirror, protocolfs --help, man -w, dpkg -r
# and -P leaving nothing of the package, then README.md's "Installing on a server"
# followed step by step (mount, reload, logrotate, audit verify, stop, purge).
#
# The root is a debootstrap minbase of bookworm from the mirror this machine's apt
# uses, built once (about a minute) and kept in $PFS_ROOT_CACHE (default
# /var/tmp/protocolfs-test-root); each run gets an overlay on it, in private mount
# and PID namespaces: every mount and process of the run ends with it, nothing of
# this machine is changed. Each run takes about 15 s.
source "$(dirname "$0")/../lib/common.sh"
CACHE=${PFS_ROOT_CACHE:-/var/tmp/protocolfs-test-root}
SUITE=bookworm
mkdir -p "$CACHE" || exit 2
exec 8>"$CACHE/lock"
flock 8 # one run at a time builds or uses the base

# apt_uri SUITE — the first URI this machine's apt sources give for SUITE
apt_uri() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] && awk -v s="$1" '{ sub(/#.*/, "") } $1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == s) print $i }' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" } {
				delete v; k = ""
				for (j = 1; j <= NF; j++) {
					l = $j; if (l ~ /^#/) continue
					if (l ~ /^[A-Za-z-]+:/) { k = tolower(substr(l, 1, index(l, ":") - 1)); l = substr(l, index(l, ":") + 1) }
					v[k] = v[k] " " l
				}
				if (tolower(v["enabled"]) ~ /no/ || !(" " v["types"] " " ~ /[ \t]deb[ \t]/)) next
				if (!(" " v["suites"] " " ~ "[ \t]" s "[ \t]")) next
				n = split(v["uris"], u, /[ \t]+/); for (j = 1; j <= n; j++) if (u[j] != "") { print u[j]; break } }' "$f"
		done
	} | head -n 1
}

build_base() {
	local new=$CACHE/base.new mirror updates security p
	mirror=$(apt_uri $SUITE)
	updates=$(apt_uri $SUITE-updates)
	security=$(apt_uri $SUITE-security)
	[ -n "$mirror" ] || { fail root_base "no '$SUITE' in this machine's apt sources"; return 1; }
	rm -rf --one-file-system "$new"
	# debootstrap downloads with wget, which takes the proxy from the environment
	p=$(apt-config shell v Acquire::http::Proxy | sed -n "s/^v='\(.*\)'$/\1/p")
	[ -n "$p" ] && export http_proxy=$p
	if ! debootstrap --variant=minbase $SUITE "$new" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
		fail root_base "debootstrap failed: $(tail -n 3 "$CACHE/debootstrap.log" | tr '\n' ' ')"
		return 1
	fi
	{
		echo "deb $mirror $SUITE main"
		[ -n "$updates" ] && echo "deb $updates $SUITE-updates main"
		[ -n "$security" ] && echo "deb $security $SUITE-security main"
	} >"$new/etc/apt/sources.list"
	apt-config dump | grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date) ' \
		>"$new/etc/apt/apt.conf.d/99host-network"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$new/etc/hosts"
	# no service of a package starts in the root
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d" && chmod 755 "$new/usr/sbin/policy-rc.d"
	rm -rf "$new/var/cache/apt/archives/"*.deb "$new/var/lib/apt/lists/"*
	mv "$new" "$CACHE/base"
}
if [ ! -x "$CACHE/base/bin/bash" ]; then
	t0=$SECONDS
	build_base || exit 1
	pass root_base_built # (in $((SECONDS - t0)) s)
else
	pass root_base_cached
fi

# the package, its paths, and the script to run inside
# A SANITIZE=1 binary needs runtimes the package does not depend on: then the
# package is made as `make deb` makes it, from a plain build of a copy of the tree.
P=$T/pkg
if ldd "$PFS" | grep -q libasan; then
	mkdir -p "$T/src" && (cd "$TOP" && tar -cf - --exclude=./.git --exclude=./build --exclude=./protocolfs \
		--exclude=./demo .) | tar -xf - -C "$T/src" &&
		make -s -C "$T/src" --no-print-directory deb SANITIZE= DEB_DIR="$T/deb" >"$T/deb.out" 2>&1
else
	make -s -C "$TOP" --no-print-directory deb-only DEB_DIR="$T/deb" >"$T/deb.out" 2>&1
fi || {
	fail root_deb "$(cat "$T/deb.out")"
	exit 1
}
mkdir -p "$P"
cp "$T/deb"/protocolfs_*.deb "$TOP/tests/pkg/inside.sh" "$P/"
dpkg-deb -c "$P"/protocolfs_*.deb | awk '{ p = substr($6, 2); sub(/\/$/, "", p); if (p != "") print p }' >"$P/contents"

cat >"$T/run.sh" <<'EOS'
# in private mount and PID namespaces: set up the root, run inside.sh there
set -u
B=$1 W=$2 P=$3
R=$W/root
mkdir -p "$W/upper" "$W/work" "$R" || exit 2
mount -t overlay overlay -o "lowerdir=$B,upperdir=$W/upper,workdir=$W/work" "$R" 2>/dev/null ||
	cp -a "$B/." "$R/" || exit 2
mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" &&
	mount -t tmpfs -o mode=1777 tmpfs "$R/tmp" || exit 2
rm -f "$R/etc/resolv.conf" && cp -L /etc/resolv.conf "$R/etc/resolv.conf"
[ -e "$R/etc/mtab" ] || ln -s ../proc/self/mounts "$R/etc/mtab"
mkdir -p "$R/root/pkg" && cp "$P"/* "$R/root/pkg/" || exit 2
chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash /root/pkg/inside.sh /root/pkg </dev/null
EOS
unshare --mount --propagation private --pid --fork --kill-child \
	bash "$T/run.sh" "$CACHE/base" "$T/w" "$P" >"$T/inside.out" 2>&1
rc=$?
# the PASS/FAIL lines of the root are this test's
grep -E '^(PASS|FAIL) ' "$T/inside.out"
grep -q '^[0-9]* passed, 0 failed$' "$T/inside.out" && [ $rc = 0 ] && pass root_all_passed ||
	fail root_all_passed "exit $rc: $(grep -vE '^(PASS|FAIL) ' "$T/inside.out" | tail -n 5 | tr '\n' ' ')"
rm -rf --one-file-system "$T/w"
exit $FAILED
