#!/bin/bash
# docs.sh — the README and the binary name the same subcommands, each with a real
# command line in README.md, and every command's --help works (exit 0, usage on stdout).
source "$(dirname "$0")/../lib/common.sh"

cmds=$("$PFS" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }')
same help_lists_commands "$(echo $cmds)" "keygen seal inspect check profiles mount audit terminate purge"
for c in $cmds; do
	if grep -qE "^ +protocolfs $c( |$)" "$TOP/README.md"; then
		pass "readme_shows_$c"
	else
		fail "readme_shows_$c" "README.md has no indented 'protocolfs $c ...' command line"
	fi
	out=$("$PFS" $c --help 2>&1)
	rc=$?
	[ $rc = 0 ] && [[ "$out" == usage:* ]] && pass "help_$c" || fail "help_$c" "exit $rc: $out"
done
# every "protocolfs X" the README shows in a command block is a real subcommand
for c in $(grep -oE "^ +protocolfs [a-z]+" "$TOP/README.md" | awk '{ print $2 }' | sort -u); do
	if echo "$cmds" | grep -qx "$c"; then
		pass "readme_command_exists_$c"
	else
		fail "readme_command_exists_$c" "README.md shows 'protocolfs $c' but the binary has no such command"
	fi
done
exit $FAILED
