#!/bin/bash
# basic.sh — each sample profile's exact file contents on one allow_other mount.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/mount.sh"
fixture_users
fixture_dataset
fixture_config
mount_start || exit 1

same tb_contents "$(as pfs_tb cat "$MNT/INB0000001.txt")" "voornaam: Amina
achternaam: Haddad
adres: Bruul 12; bus 3\\n2800 Mechelen
telefoon: +32 470 12 34 56
e-mail: amina.haddad@example.be
contacttaal: Arabisch
niveau Nederlands: A2
status MO: bezig"
same pm_contents "$(as pfs_pm cat "$MNT/INB0000002.txt")" "voornaam: Oleksandra
achternaam: Kovalenko
telefoon: +32 471 00 00 01
e-mail: 
contacttaal: Oekraïens
niveau Nederlands: geen
status MO: niet gestart"
same partner_contents "$(as pfs_pa cat "$MNT/INB0000003.txt")" "voornaam: Şükrü
contacttaal: Turks
niveau Nederlands: B1"
same backslash_escaped "$(as pfs_tb grep adres "$MNT/INB0000002.txt")" 'adres: Hoogstraat 5 \\ achterhuis, 2800 Mechelen'
same tb_listing "$(as pfs_tb ls "$MNT" | tr '\n' ' ')" "INB0000001.txt INB0000002.txt INB0000003.txt LEESMIJ-README "
same admin_listing "$(ls "$MNT" | tr '\n' ' ')" "LEESMIJ-README "
out=$(as pfs_no ls "$MNT" 2>&1)
same noprofile_listing "$out" "ls: cannot open directory '$MNT': Permission denied"
mount_stop && pass clean_unmount
exit $FAILED
