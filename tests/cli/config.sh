#!/bin/bash
# config.sh — the city's INI configuration, validated whole before use: every
# error is exactly one stderr line naming the config file (its realpath), the
# section and the key, with exit 2, nothing on stdout and no file touched; keys
# that name sections (CVE-2023-33461 in Debian's iniparser) never crash it; and
# `check` / `profiles` print exactly the expected report for the good config.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
source "$(dirname "$0")/lib/helpers.bash"
fixture_users
fixture_dataset || { fail setup "fixture_dataset failed"; exit 1; }
fixture_config
# Work in a copy (refuse compares the whole folder before and after); configs are
# named relatively from here, so every message must show the realpath.
W=$T/w
mkdir "$W"
cp -a "$T/city.ini" "$T/dataset.pfs" "$T/agii.pub" "$T/city.key" "$T/city.pub" "$T/state" "$W/"
cd "$W" || exit 2
chmod 755 "$W"
UID_PM=$(id -u pfs_pm)
GID_PA=$(getent group pfs_partners | cut -d: -f3)

# variant NAME SED-SCRIPT — NAME.ini is city.ini edited by SED-SCRIPT
variant() { sed -e "$2" city.ini >"$1.ini"; }
# cfg_err NAME FILE MESSAGE — `check FILE` refuses with exit 2 and exactly
# "protocolfs: check: $W/FILE: MESSAGE"
cfg_err() { refuse "$1" 2 "protocolfs: check: $W/$2: $3" "$W" "$PFS" check "$2"; }
# cfg_clean NAME FILE — no crash and a clean refusal: exit 2, one stderr line that
# names the config (realpath), nothing on stdout, nothing written.
cfg_clean() {
	local before after rc
	before=$(tree_state "$W")
	"$PFS" check "$2" >"$T/.out" 2>"$T/.err"
	rc=$?
	after=$(tree_state "$W")
	if [ $rc != 2 ] || [ "$(wc -l <"$T/.err")" != 1 ] || [ -s "$T/.out" ] || [ "$before" != "$after" ] ||
		[[ "$(cat "$T/.err")" != "protocolfs: check: $W/$2: "* ]]; then
		fail "$1" "exit $rc, stderr '$(cat "$T/.err")', stdout $(wc -c <"$T/.out") bytes"
	else
		pass "$1"
	fi
}

# ---- sections and keys
variant unknown_section '1i [foo]\nx = 1'
cfg_err unknown_section unknown_section.ini "[foo]: unknown section"
variant unknown_key_dataset 's/^state_dir = state/&\ncolour = blue/'
cfg_err unknown_key_dataset unknown_key_dataset.ini "[dataset] colour: unknown key"
variant unknown_key_audit 's/^log = audit.log/&\nlevel = 3/'
cfg_err unknown_key_audit unknown_key_audit.ini "[audit] level: unknown key"
variant unknown_key_profile 's/^description = Partnerorganisaties/&\nfieldz = first_name/'
cfg_err unknown_key_profile unknown_key_profile.ini "[profile:partner] fieldz: unknown key"
variant missing_path '/^path = dataset.pfs/d'
cfg_err missing_required_dataset_path missing_path.ini "[dataset] path: missing"
variant missing_fields '/^fields =$/d'
cfg_err missing_required_profile_fields missing_fields.ini "[profile:beheerder] fields: missing"
variant empty_value 's/^path = dataset.pfs/path =/'
cfg_err empty_value empty_value.ini "[dataset] path: empty value"
variant outside '1i stray = 1'
cfg_err key_outside_any_section outside.ini "stray: key outside any section"
variant empty_profile 's/^\[profile:beheerder\]/[profile:]/'
cfg_err empty_profile_name empty_profile.ini "[profile:]: empty profile name"
variant bad_uint 's/^log = audit.log/&\nsync_interval_ms = 10s/'
cfg_err audit_number_parsed bad_uint.ini "[audit] sync_interval_ms: must be a whole number from 1 to 60000"

# ---- fields and labels against the dataset's signed field list
variant unknown_field 's/^fields = first_name, contact_language, dutch_level$/fields = first_name, nationality/'
cfg_err unknown_field_id unknown_field.ini '[profile:partner] fields: unknown field id "nationality" (no label in [labels])'
variant field_twice 's/^fields = first_name, contact_language, dutch_level$/fields = first_name, dutch_level, first_name/'
cfg_err field_listed_twice field_twice.ini '[profile:partner] fields: field "first_name" listed twice'
variant label_unsigned 's/^mo_status = status MO/&\nnationality = nationaliteit/'
cfg_err label_not_signed label_unsigned.ini "[labels] nationality: not in the dataset's signed field list"
variant label_colon 's/^dutch_level = niveau Nederlands/dutch_level = niveau: NT2/'
cfg_err label_with_colon label_colon.ini "[labels] dutch_level: label must be non-empty, one line, without ':'"
# A dataset sealed under a protocol without mo_status: the city's config still
# labels it and gives it to two profiles. The label is reported (it comes first);
# without the label, the profile's field is unknown. Without both it loads.
grep -v '^mo_status' "$T/protocol.ini" >"$T/nomo-protocol.ini"
printf 'dossiernummer;voornaam;achternaam;adres;telefoon;email;contacttaal;niveau_nederlands;gedeeld_op\r\nINB0000001;Amina;Haddad;Bruul 12;+32 470 12 34 56;a@example.be;Arabisch;A2;%s\r\n' \
	"$(days_from_today -10)" >"$T/nomo.csv"
"$PFS" seal --protocol "$T/nomo-protocol.ini" --issuer-key "$T/agii.key" --recipient city.pub --serial 1 \
	"$T/nomo.csv" nomo.pfs >/dev/null || fail setup "sealing nomo.pfs failed"
variant nomo_keep 's/^path = dataset.pfs/path = nomo.pfs/'
cfg_err profile_field_not_signed nomo_keep.ini "[labels] mo_status: not in the dataset's signed field list"
variant nomo_nolabel 's/^path = dataset.pfs/path = nomo.pfs/;/^mo_status = status MO/d'
cfg_err profile_field_not_signed_no_label nomo_nolabel.ini \
	'[profile:trajectbegeleider] fields: unknown field id "mo_status" (no label in [labels])'
variant nomo_ok 's/^path = dataset.pfs/path = nomo.pfs/;/^mo_status = status MO/d;s/, mo_status$//'
"$PFS" check nomo_ok.ini >/dev/null 2>"$T/.err" && pass narrower_dataset_without_the_field_loads ||
	fail narrower_dataset_without_the_field_loads "$(cat "$T/.err")"

# iniparser keeps only the last of two equal keys and merges two equal sections:
# a second "users =" or a second [profile:NAME] would silently replace the first
# (and could widen a profile). Both must be refused, naming file, section (and key).
# cfg_dup NAME FILE SECTION [KEY]
cfg_dup() {
	"$PFS" check "$2" >"$T/.out" 2>"$T/.err"
	local rc=$? msg
	# the message names the line of the repeat: FILE:LINE: [section] key: given twice
	msg=$(sed -E 's/^(protocolfs: check: [^:]+):[0-9]+:/\1:/' "$T/.err")
	if [ $rc = 2 ] && [ "$(wc -l <"$T/.err")" = 1 ] && [ "$msg" == "protocolfs: check: $W/$2: [$3]${4:+ $4}: given twice" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc, stderr '$msg' (want one line naming $W/$2, [$3]${4:+ $4})"
	fi
}
variant dup_key 's/^users = pfs_tb$/&\nusers = pfs_no/'
cfg_dup duplicate_key_refused dup_key.ini profile:trajectbegeleider users
variant dup_section 's/^\[profile:beheerder\]/[profile:trajectbegeleider]/;s/^users = root$/users = pfs_no/'
cfg_dup duplicate_section_refused dup_section.ini profile:trajectbegeleider
# No table limit on the repeat check: a repeat after the 550th of 600 keys is caught.
{
	cat city.ini
	echo "[profile:bulk]"
	for i in $(seq 1 600); do echo "k$i = v"; done
	echo "k560 = again"
} >dup_many.ini
cfg_dup duplicate_after_600_keys_refused dup_many.ini profile:bulk k560

# ---- users, groups, separation of duties
variant user_two 's/^users = pfs_tb$/users = pfs_tb, pfs_pm/'
cfg_err user_in_two_profiles user_two.ini \
	"[profile:trajectbegeleider] users: uid $UID_PM is also in profile \"projectmedewerker\" (separation of duties)"
variant user_two_by_name 's/^users = root$/users = root, pfs_tb/'
cfg_err user_in_two_profiles_by_name user_two_by_name.ini \
	"[profile:trajectbegeleider] users: uid $(id -u pfs_tb) is also in profile \"beheerder\" (separation of duties)"
variant gid_two 's/^users = root$/users = root\ngroups = pfs_partners/'
cfg_err gid_in_two_profiles gid_two.ini \
	"[profile:partner] groups: gid $GID_PA is also in profile \"beheerder\" (separation of duties)"
# pfs_pa is listed by name as a trajectbegeleider and is a member of pfs_partners
# (partner): one person, two profiles. The message must say where: the file, a
# [profile:...] section and its users/groups key, the user and both profiles.
variant sod 's/^users = pfs_tb$/users = pfs_tb, pfs_pa/'
"$PFS" check sod.ini >"$T/.out" 2>"$T/.err"
rc=$?
msg=$(cat "$T/.err")
if [ $rc = 2 ] && [ "$(wc -l <"$T/.err")" = 1 ] && [[ "$msg" == "protocolfs: check: $W/sod.ini: [profile:"* ]] &&
	[[ "$msg" =~ \[profile:(trajectbegeleider\]\ users|partner\]\ groups): ]] && [[ "$msg" == *pfs_pa* ]] &&
	[[ "$msg" == *trajectbegeleider* ]] && [[ "$msg" == *partner* ]]; then
	pass separation_of_duties_group_member
else
	fail separation_of_duties_group_member "exit $rc, stderr '$msg' (want the file, [profile:...] users/groups, the user and both profiles)"
fi
variant unknown_user 's/^users = pfs_tb$/users = pfs_tb, nosuchuser_pfs/'
cfg_err unknown_user unknown_user.ini '[profile:trajectbegeleider] users: unknown user "nosuchuser_pfs"'
variant unknown_group 's/^groups = pfs_partners$/groups = pfs_partners, nosuchgroup_pfs/'
cfg_err unknown_group unknown_group.ini '[profile:partner] groups: unknown group "nosuchgroup_pfs"'
variant empty_item 's/^users = pfs_tb$/users = pfs_tb, ,pfs_no/'
cfg_err empty_list_item empty_item.ini "[profile:trajectbegeleider] users: empty item in list"

# ---- files: missing, unreadable, not private
variant missing_dataset 's/^path = dataset.pfs/path = missing.pfs/'
cfg_err missing_dataset missing_dataset.ini "[dataset] path: $W/missing.pfs: No such file or directory"
# city.key is root's, 0600: a user without access gets the config's answer
refuse unreadable_key 2 "protocolfs: check: $W/city.ini: [dataset] recipient_key: $W/city.key: Permission denied" \
	"$W" as pfs_no "$PFS" check city.ini
for m in 640 604; do
	chmod $m city.key
	cfg_err "secret_key_mode_$m" city.ini "[dataset] recipient_key: $W/city.key: readable by group or others (chmod 600)"
	chmod 600 city.key
done
echo "geheim" >pp
chmod 604 pp
variant passphrase 's/^state_dir = state/&\npassphrase_file = pp/'
cfg_err passphrase_readable_by_others passphrase.ini \
	"[dataset] passphrase_file: $W/pp: readable by group or others (chmod 600)"
chmod 600 pp
chmod 666 dataset.pfs
cfg_err dataset_world_writable city.ini "[dataset] path: $W/dataset.pfs: writable by group or others (chmod go-w)"
chmod 644 dataset.pfs
chmod 620 city.key
cfg_err secret_key_group_writable city.ini "[dataset] recipient_key: $W/city.key: writable by group or others (chmod go-w)"
chmod 600 city.key
# the config itself, named relatively: the message gives its realpath (only)
chmod 664 city.ini
cfg_err config_group_writable city.ini "writable by group or others (chmod go-w)"
chmod 644 city.ini
# a key file that is there and readable but no key: still a config error, so it
# names the config key that points at it
echo "geen sleutel" >bad.key
chmod 600 bad.key
variant bad_key 's/^recipient_key = city.key/recipient_key = bad.key/'
cfg_err recipient_key_not_a_key bad_key.ini "[dataset] recipient_key: $W/bad.key: not a protocolfs key file (line 1)"
variant wrong_kind 's/^issuer_key = agii.pub/issuer_key = city.pub/'
cfg_err issuer_key_wrong_kind wrong_kind.ini \
	"[dataset] issuer_key: $W/city.pub: this is a recipient key; an issuer key is needed here"
# F 37: config and secret key must be owned by root (the user running protocolfs)
cp -a city.ini owned.ini
chown pfs_tb owned.ini
"$PFS" check owned.ini >"$T/.out" 2>"$T/.err"
rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$T/.err")" = 1 ] && grep -q "^protocolfs: check: $W/owned.ini: .*owned by" "$T/.err" &&
	pass config_owned_by_other_user || fail config_owned_by_other_user "exit $rc, stderr '$(cat "$T/.err")'"
chown pfs_tb city.key
"$PFS" check city.ini >"$T/.out" 2>"$T/.err"
rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$T/.err")" = 1 ] &&
	grep -q "^protocolfs: check: $W/city.ini: \[dataset\] recipient_key: $W/city.key: .*owned by" "$T/.err" &&
	pass secret_key_owned_by_other_user || fail secret_key_owned_by_other_user "exit $rc, stderr '$(cat "$T/.err")'"
chown root city.key
refuse missing_config 2 "protocolfs: check: nope.ini: No such file or directory" "$W" "$PFS" check nope.ini
# through a symlink: the message names the file it points to
mkdir -p real
variant real/target '1i [foo]'
ln -s real/target.ini link.ini
refuse symlinked_config 2 "protocolfs: check: $W/real/target.ini: [foo]: unknown section" "$W" "$PFS" check link.ini

# ---- keys that name sections, sections that name keys (CVE-2023-33461 style)
variant cve_fields '1i fields = x'
echo $'[fields]\nfields = y' >>cve_fields.ini
cfg_err cve_key_named_like_section cve_fields.ini "[fields]: unknown section"
variant cve_dataset_key 's/^state_dir = state/&\ndataset = x/'
cfg_err cve_section_name_as_key cve_dataset_key.ini "[dataset] dataset: unknown key"
variant cve_labels_key 's/^\[labels\]/&\nlabels = x/'
cfg_err cve_labels_key cve_labels_key.ini "[labels] labels: not in the dataset's signed field list"
variant cve_sub_after '$a [dataset:path]\nx = 1'
cfg_err cve_subsection_after cve_sub_after.ini "[dataset:path]: unknown section"
variant cve_sub_before '1i [dataset:path]\nx = 1'
cfg_clean cve_subsection_before_clean cve_sub_before.ini
variant cve_audit_sub '1i [audit:sync_interval_ms]\nx = 1'
cfg_clean cve_uint_key_is_section cve_audit_sub.ini
variant cve_profile_key '$a [profile:partner:users]\nusers = pfs_no'
cfg_clean cve_profile_subsection cve_profile_key.ini
variant cve_bare_sections '$a [dataset:path]\n[audit:log]\n[labels:first_name]'
cfg_clean cve_bare_sections cve_bare_sections.ini
printf 'description = a\0b\n' >"$T/nul"
variant nul '/^description = Beheerder/d'
sed -i "/^\[profile:beheerder\]/r $T/nul" nul.ini
# a NUL would hide the rest of its line from iniparser: refused, naming the line
refuse nul_byte_refused 2 "protocolfs: check: $W/nul.ini:$(grep -an 'description = a' nul.ini | cut -d: -f1): NUL byte in the file" "$W" "$PFS" check nul.ini
# a profile may be called like a key: [profile:fields] with fields = ... loads
variant prof_fields 's/^\[profile:beheerder\]/[profile:fields]/;s/^users = root$/users = pfs_no/;s/^fields =$/fields = first_name/'
"$PFS" profiles prof_fields.ini >"$T/.out" 2>"$T/.err"
same profile_named_fields "$? $(cat "$T/.err") $(tail -5 "$T/.out" | paste -sd'|')" \
	"0    fields|    description: Beheerder|    fields:      first_name|    users:       pfs_no|    groups:      (none)"

# ---- the same refusal from profiles and mount (nothing mounted)
refuse profiles_config_error 2 "protocolfs: profiles: $W/user_two.ini: [profile:trajectbegeleider] users: uid $UID_PM is also in profile \"projectmedewerker\" (separation of duties)" \
	"$W" "$PFS" profiles user_two.ini
refuse mount_config_error 2 "protocolfs: mount: $W/unknown_key_dataset.ini: [dataset] colour: unknown key" \
	"$W" "$PFS" mount unknown_key_dataset.ini "$MNT" -f -o allow_other
refuse mount_bg_config_error 2 "protocolfs: mount: $W/unknown_key_dataset.ini: [dataset] colour: unknown key" \
	"$W" "$PFS" mount unknown_key_dataset.ini "$MNT" -o allow_other
is_mounted && fail config_error_not_mounted "$MNT is mounted" || pass config_error_not_mounted

# ---- the good config: check and profiles, exactly
START=$(days_from_today -30)
END=$(days_from_today 365)
NEXT=$(date -u -d "$END + 1 day" +%Y-%m-%d)
PROFILES="function profiles (Art. 4):
  trajectbegeleider
    description: Trajectbegeleiders
    fields:      first_name, last_name, address, phone, email, contact_language, dutch_level, mo_status
    users:       pfs_tb
    groups:      (none)
  projectmedewerker
    description: Projectmedewerkers
    fields:      first_name, last_name, phone, email, contact_language, dutch_level, mo_status
    users:       $UID_PM
    groups:      (none)
  partner
    description: Partnerorganisaties
    fields:      first_name, contact_language, dutch_level
    users:       (none)
    groups:      pfs_partners
  beheerder
    description: Beheerder
    fields:      (none)
    users:       root
    groups:      (none)"
run_exact check_good 0 "config:     $W/city.ini
dataset:    $W/dataset.pfs (serial 1, 3 records, signature verified)
protocol:   AGII-MECHELEN-AMIF507, Agentschap Integratie en Inburgering to stad Mechelen
window:     $START to $END inclusive (Europe/Brussels): in force
visible:    3 records now (0 expired, 0 purged)
next:       $NEXT (records disappear at the start of this day)

$PROFILES" "" "$W" "$PFS" check city.ini
run_exact profiles_good 0 "$PROFILES" "" "$W" "$PFS" profiles city.ini
run_exact check_good_absolute 0 "$(cd / && "$PFS" check "$W/city.ini")" "" "$W" "$PFS" check ./city.ini
exit $FAILED
