#!/bin/sh
# deps.sh PKG... — install the Debian packages among PKG that are missing.
# As root it runs apt-get (updating the package lists first when they are absent);
# otherwise it names what is missing and fails.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "protocolfs build: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 2
fi
echo "protocolfs build: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null || {
		echo "protocolfs build: apt-get install$missing failed" >&2
		exit 2
	}
fi
