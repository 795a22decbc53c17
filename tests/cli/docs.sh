#!/bin/bash
# docs.sh — the README and the binary name the same subcommands, each with a real
# command line in README.md, and every command's --help works (exit 0, usage on stdout).
# The man pages agree with the binary and the config schema: protocolfs.1 has a
# section for every command, naming every option of its usage (and only those),
# protocolfs.ini.5 an item for every (section, key) of the schema table in
# fs/config.c (and only those), with "required", the default, the allowed words and
# bounds; both render without a warning.
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

# ---- protocolfs.1
MAN1="$TOP/conf/man/protocolfs.1"
MAN5="$TOP/conf/man/protocolfs.ini.5"
# man_block FILE HEADER — the lines after HEADER (a .SS or .SH line) up to the next
# .SS or .SH, with roff's \- read as -
man_block() {
	awk -v h="$2" '$0 == h { on = 1; next } on && /^\.S[SH] / { exit } on' "$1" | sed 's/\\-/-/g'
}
# synopsis_opts CMD — the options in the usage lines of CMD --help (up to the first
# blank line), one a line
synopsis_opts() {
	"$PFS" $1 --help | awk 'NF == 0 { exit } { print }' |
		grep -oE '(^|[ [|])--?[a-z][a-z-]*' | sed 's/^[ [|]//' | sort -u
}
for c in $cmds; do
	sec=$(man_block "$MAN1" ".SS $c")
	[ -n "$sec" ] && pass "man1_section_$c" || fail "man1_section_$c" "protocolfs.1 has no '.SS $c'"
	missing=""
	for o in $(synopsis_opts $c); do
		grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|\$)" <<<"$sec" || missing="$missing $o"
	done
	same "man1_options_$c" "$missing" ""
	# every option the section describes (a .TP tag) is one the command takes
	extra=""
	for o in $(awk 'p { print; p = 0 } /^\.TP/ { p = 1 }' <<<"$sec" | grep -oE -- '(^|[ ])--?[a-z][a-z-]*' | tr -d ' ' | sort -u); do
		synopsis_opts $c | grep -qx -- "$o" || extra="$extra $o"
	done
	same "man1_no_stale_options_$c" "$extra" ""
done
subs=$("$PFS" audit --help | grep -oE 'protocolfs audit [a-z]+' | awk '{ print $3 }' | sort -u | paste -sd' ')
same audit_subcommands "$subs" "anomalies report verify"
for s in $subs; do
	man_block "$MAN1" ".SS audit" | grep -qx "\.B $s" && pass "man1_audit_$s" || fail "man1_audit_$s" "no '.B $s' item under .SS audit"
done
same man1_sections_are_commands "$(grep -oE '^\.SS [a-z]+' "$MAN1" | awk '{ print $2 }' | paste -sd' ')" "$(echo $cmds)"
opts=$(man_block "$MAN1" ".SH OPTIONS")
grep -q -- '--help' <<<"$opts" && grep -q -- '--version' <<<"$opts" && pass man1_top_options ||
	fail man1_top_options "the OPTIONS section must describe --help and --version"
version=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")
same version_flag "$("$PFS" --version)" "protocolfs $version"
for m in "$MAN1" "$MAN5"; do
	grep -q "^\.TH .* \"protocolfs $version\" " "$m" && pass "man_version_${m##*/}" ||
		fail "man_version_${m##*/}" "its .TH line does not name protocolfs $version"
done
for sec in "EXIT STATUS" EXAMPLES FILES "SEE ALSO"; do
	grep -qx "\.SH $sec" "$MAN1" && pass "man1_has_${sec// /_}" || fail "man1_has_${sec// /_}" "no .SH $sec"
done
same man1_exit_statuses "$(man_block "$MAN1" '.SH EXIT STATUS' | awk 'p { print $2; p = 0 } /^\.TP/ { p = 1 }' | paste -sd' ')" "0 1 2"

# ---- protocolfs.ini.5 against the schema table (section key kind required min max words)
schema=$(python3 - "$TOP/fs/config.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
table = src[src.index("cfg_schema[] = {"):]
table = table[:table.index("};")]
for row in re.findall(r'\{("[^}]*)\}', table, re.S):
    f = [x.strip() for x in re.sub(r'\s+', ' ', row).split(',')]
    sec, key, kind, req = f[0].strip('"'), f[1].strip('"'), f[2], f[3]
    mn = mx = words = '-'
    if kind == 'CFG_UINT':
        mn, mx = f[-3], f[-2]
    if kind == 'CFG_WORD':
        words = f[-1].strip('"')
    print(sec, key, kind, req, mn, mx, words)
PY
)
[ "$(wc -l <<<"$schema")" -ge 17 ] && pass schema_parsed || fail schema_parsed "only: $schema"
# the sections: the schema's, and [labels] (its keys are the field ids)
want_secs=$( (awk '{ print $1 }' <<<"$schema" | sed 's/^profile:$/profile:NAME/'; echo labels) | sort -u | paste -sd' ')
got_secs=$(grep -oE '^\.SS \[[a-z:A-Z]+\]' "$MAN5" | sed -E 's/^\.SS \[(.*)\]/\1/' | sort -u | paste -sd' ')
same man5_sections "$got_secs" "$want_secs"
while read -r sec key kind req mn mx words; do
	msec=$sec
	[ "$sec" = profile: ] && msec=profile:NAME
	item=$(man_block "$MAN5" ".SS [$msec]" | awk -v k=".B $key" 'on && /^\.TP/ { exit } on { print } p && $0 == k { on = 1 } { p = /^\.TP/ }')
	name="man5_${sec%:}_$key"
	if [ -z "$item" ]; then
		fail "$name" "protocolfs.ini.5 has no '.TP/.B $key' item under .SS [$msec]"
		continue
	fi
	why=""
	[ "$req" = true ] && ! grep -q '(required' <<<"$item" && why="$why; required, but the item does not say '(required'"
	[ "$req" = false ] && grep -q '(required' <<<"$item" && why="$why; optional, but the item says required"
	if [ "$req" = false ] && [ "$kind" = CFG_WORD -o "$kind" = CFG_UINT ] && ! grep -q 'default' <<<"$item"; then
		why="$why; no default given"
	fi
	[ "$kind" = CFG_UINT ] && ! grep -q "$mn to $mx" <<<"$item" && why="$why; bounds '$mn to $mx' not given"
	for w in ${words//|/ }; do
		[ "$w" = - ] || grep -qx "\.B $w" <<<"$item" || why="$why; allowed word '$w' not given as .B $w"
	done
	[ -z "$why" ] && pass "$name" || fail "$name" "${why#; }"
done <<<"$schema"
# every key item of the page is a key of the schema
extra=""
for s in $got_secs; do
	for k in $(man_block "$MAN5" ".SS [$s]" | awk 'p && /^\.B [a-z_]+$/ { print $2 } { p = /^\.TP/ }'); do
		grep -q "^${s%NAME} $k " <<<"$schema" || extra="$extra [$s] $k"
	done
done
same man5_no_stale_keys "$extra" ""

# ---- both pages render without a warning
for m in "$MAN1" "$MAN5"; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$m" 2>&1)
	same "groff_ww_${m##*/}" "$? $out" "0 "
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	same "man_warnings_${m##*/}" "$? $out" "0 "
done
exit $FAILED
