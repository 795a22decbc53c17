#!/bin/bash
# tools.sh — ordinary tools see each caller's own view, consistently: cat, grep -r,
# find, stat, ls -l, wc, awk, cut, cp and Python (read, text, sendfile, mmap).
# The expected views come from an independent filter below (the fixture's values,
# minus the fields a profile may not see), not from the daemon.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
PY="$(cd "$(dirname "$0")" && pwd)/py2"
PY3=/usr/bin/python3 # the system interpreter: other users cannot run root's pyenv shims
fixture_users
fixture_dataset
fixture_config
mount_start || exit 1

export LC_ALL=C # stable sort order and tool messages ('...' quotes)
IDS="INB0000001 INB0000002 INB0000003"
# person files by name: root's shell cannot glob them (root sees only the info file)
PFILES=("$MNT/INB0000001.txt" "$MNT/INB0000002.txt" "$MNT/INB0000003.txt")
USERS="pfs_tb pfs_pm pfs_pa root"
# The trajectbegeleider's view (all fields, labels of city.ini, in signed order).
full_view() {
	case $1 in
	INB0000001) printf '%s\n' 'voornaam: Amina' 'achternaam: Haddad' 'adres: Bruul 12; bus 3\n2800 Mechelen' \
		'telefoon: +32 470 12 34 56' 'e-mail: amina.haddad@example.be' 'contacttaal: Arabisch' \
		'niveau Nederlands: A2' 'status MO: bezig' ;;
	INB0000002) printf '%s\n' 'voornaam: Oleksandra' 'achternaam: Kovalenko' \
		'adres: Hoogstraat 5 \\ achterhuis, 2800 Mechelen' 'telefoon: +32 471 00 00 01' 'e-mail: ' \
		'contacttaal: Oekraïens' 'niveau Nederlands: geen' 'status MO: niet gestart' ;;
	INB0000003) printf '%s\n' 'voornaam: Şükrü' 'achternaam: Yılmaz' 'adres: Nekkerspoel 1, 2800 Mechelen' \
		'telefoon: +32 499 99 99 99' 'e-mail: sukru@example.be' 'contacttaal: Turks' \
		'niveau Nederlands: B1' 'status MO: geslaagd' ;;
	esac
}
# view USER ID — the reference filter: the profile's labels only.
view() {
	case $1 in
	pfs_tb) full_view "$2" ;;
	pfs_pm) full_view "$2" | grep -v '^adres: ' ;;
	pfs_pa) full_view "$2" | grep -E '^(voornaam|contacttaal|niveau Nederlands): ' ;;
	esac
}
mkdir -p "$T/want" "$T/got"
for u in pfs_tb pfs_pm pfs_pa; do
	mkdir -p "$T/want/$u"
	for id in $IDS; do view $u $id >"$T/want/$u/$id.txt"; done
done
chmod -R a+rX "$T/want"
# all_files USER — the files USER sees, sorted, with full paths
all_files() {
	[ "$1" = root ] || for id in $IDS; do echo "$MNT/$id.txt"; done
	echo "$MNT/LEESMIJ-README"
}

# cat, and every Python read path, byte-exact against the reference
for u in pfs_tb pfs_pm pfs_pa; do
	bad=""
	for id in $IDS; do
		as $u cat "$MNT/$id.txt" >"$T/got/cat" 2>&1
		cmp -s "$T/got/cat" "$T/want/$u/$id.txt" || bad+=" cat:$id"
		for m in read text copyfile mmap; do
			as $u $PY3 "$PY/readall.py" $m "$MNT/$id.txt" >"$T/got/py" 2>&1
			cmp -s "$T/got/py" "$T/want/$u/$id.txt" || bad+=" python-$m:$id"
		done
	done
	if [ -z "$bad" ]; then pass "cat_python_$u"; else fail "cat_python_$u" "differs from the reference view:$bad"; fi
done
# cp (copy_file_range, then read) into a folder of the user's own
for u in pfs_tb pfs_pa; do
	d="$T/cp-$u"
	mkdir "$d" && chown $u "$d"
	as $u cp "$MNT/INB0000001.txt" "$d/x" 2>"$T/got/cp.err"
	if cmp -s "$d/x" "$T/want/$u/INB0000001.txt"; then pass "cp_$u"; else fail "cp_$u" "copy differs: $(cat "$T/got/cp.err")"; fi
done

# grep -r
same grep_rl_arabisch_tb "$(as pfs_tb grep -rl Arabisch "$MNT" | sort)" "$MNT/INB0000001.txt"
same grep_rl_arabisch_pa "$(as pfs_pa grep -rl Arabisch "$MNT" | sort)" "$MNT/INB0000001.txt"
same grep_rl_arabisch_pm "$(as pfs_pm grep -rl Arabisch "$MNT" | sort)" "$MNT/INB0000001.txt"
out=$(grep -rl Arabisch "$MNT" 2>&1)
same grep_rl_arabisch_root "$out (exit $?)" " (exit 1)"
out=$(as pfs_pa grep -r Haddad "$MNT" 2>&1)
same grep_r_haddad_pa_nothing "$out (exit $?)" " (exit 1)"
same grep_r_haddad_pm "$(as pfs_pm grep -r Haddad "$MNT" 2>&1)" "$MNT/INB0000001.txt:achternaam: Haddad"
# Mechelen is in every address and in the information file (the recipient)
same grep_rl_mechelen_tb "$(as pfs_tb grep -rl Mechelen "$MNT" | sort)" "$(all_files pfs_tb)"
same grep_rl_mechelen_pm "$(as pfs_pm grep -rl Mechelen "$MNT" | sort)" "$MNT/LEESMIJ-README"
same grep_rl_mechelen_pa "$(as pfs_pa grep -rl Mechelen "$MNT" | sort)" "$MNT/LEESMIJ-README"
same grep_rc_telefoon_pa "$(as pfs_pa grep -rc '^telefoon: ' "$MNT" | sort | paste -sd' ')" \
	"$MNT/INB0000001.txt:0 $MNT/INB0000002.txt:0 $MNT/INB0000003.txt:0 $MNT/LEESMIJ-README:0"
out=$(as pfs_no grep -r Haddad "$MNT" 2>&1)
same grep_r_no_profile "$out (exit $?)" "grep: $MNT: Permission denied (exit 2)"

# find
for u in $USERS; do
	same "find_type_f_$u" "$(as $u find "$MNT" -type f 2>&1 | sort)" "$(all_files $u)"
done
out=$(as pfs_no find "$MNT" -type f 2>&1)
same find_no_profile "$out (exit $?)" "find: '$MNT': Permission denied (exit 1)"
same find_root_dirs "$(find "$MNT" -mindepth 1 -type d | wc -l)" 0

# stat, ls -l and wc -c agree for every caller and file
for u in $USERS; do
	bad=""
	while read -r f; do
		n=$(as $u sh -c 'wc -c < "$1"' sh "$f")
		s=$(as $u stat -c %s "$f")
		l=$(as $u ls -l "$f" | awk '{print $1, $5}')
		[ "$s" = "$n" ] && [ "$l" = "-r--r--r-- $n" ] || bad+=" $f: wc $n stat $s ls '$l';"
	done < <(all_files $u)
	# the sizes in one `ls -l` of the folder, as well
	while read -r mode _ _ _ size _ _ _ name; do
		[ "$mode" = total ] && continue
		n=$(as $u sh -c 'wc -c < "$1"' sh "$MNT/$name")
		[ "$size" = "$n" ] || bad+=" ls-dir $name: $size, wc $n;"
	done < <(as $u ls -l "$MNT")
	if [ -z "$bad" ]; then pass "sizes_stat_ls_wc_$u"; else fail "sizes_stat_ls_wc_$u" "$bad"; fi
done
bad=""
n=0
for u in pfs_tb pfs_pm pfs_pa; do
	for id in $IDS; do
		got=$(as $u sh -c 'wc -c < "$1"' sh "$MNT/$id.txt")
		want=$(wc -c <"$T/want/$u/$id.txt") || want="no reference"
		n=$((n + 1))
		[ -n "$got" ] && [ "$got" = "$want" ] || bad+=" $u $id: got '$got', want '$want';"
	done
done
same size_vs_reference "$n:$bad" "9:"
same line_counts "$(for u in pfs_tb pfs_pm pfs_pa; do as $u wc -l "$MNT/INB0000003.txt" | awk '{print $1}'; done | paste -sd' ')" "8 7 3"

# awk -F': ' and cut -d: -f1
same awk_phone_tb "$(as pfs_tb awk -F': ' '$1 == "telefoon" { print $2 }' "${PFILES[@]}")" \
	"+32 470 12 34 56
+32 471 00 00 01
+32 499 99 99 99"
same awk_phone_pm "$(as pfs_pm awk -F': ' '$1 == "telefoon" { print $2 }' "${PFILES[@]}")" \
	"$(as pfs_tb awk -F': ' '$1 == "telefoon" { print $2 }' "${PFILES[@]}")"
same awk_phone_pa "$(as pfs_pa awk -F': ' '$1 == "telefoon" { print $2 }' "${PFILES[@]}")" ""
same awk_language_pa "$(as pfs_pa awk -F': ' '$1 == "contacttaal" { print FILENAME ": " $2 }' "${PFILES[@]}")" \
	"$MNT/INB0000001.txt: Arabisch
$MNT/INB0000002.txt: Oekraïens
$MNT/INB0000003.txt: Turks"
same awk_address_tb_one_line "$(as pfs_tb awk -F': ' '$1 == "adres" { print $2 }' "$MNT/INB0000001.txt")" 'Bruul 12; bus 3\n2800 Mechelen'
same awk_empty_email_tb "$(as pfs_tb awk -F': ' '$1 == "e-mail" { print "[" $2 "]" }' "$MNT/INB0000002.txt")" "[]"
same awk_fields_per_line_tb "$(as pfs_tb awk -F': ' '{ print NF }' "${PFILES[@]}" | sort -u | paste -sd' ')" "2"
same cut_labels_tb "$(as pfs_tb cut -d: -f1 "$MNT/INB0000002.txt" | paste -sd,)" \
	"voornaam,achternaam,adres,telefoon,e-mail,contacttaal,niveau Nederlands,status MO"
same cut_labels_pm "$(as pfs_pm cut -d: -f1 "$MNT/INB0000002.txt" | paste -sd,)" \
	"voornaam,achternaam,telefoon,e-mail,contacttaal,niveau Nederlands,status MO"
same cut_labels_pa "$(as pfs_pa cut -d: -f1 "$MNT/INB0000002.txt" | paste -sd,)" \
	"voornaam,contacttaal,niveau Nederlands"
same cut_values_pa "$(as pfs_pa cut -d: -f2- "$MNT"/INB0000001.txt | paste -sd,)" " Amina, Arabisch, A2"
# cross-check: every tool's answer of one user equals the same user's cat
for u in pfs_tb pfs_pm pfs_pa; do
	c=$(as $u cat "${PFILES[@]}" | cut -d: -f1 | sort | uniq -c | awk '{print $1 "x" $2 $3}' | paste -sd' ')
	g=$(as $u grep -rh '' "$MNT" --include='INB*' | cut -d: -f1 | sort | uniq -c | awk '{print $1 "x" $2 $3}' | paste -sd' ')
	same "cat_grep_consistent_$u" "$g" "$c"
done

mount_stop && pass clean_unmount
exit $FAILED
