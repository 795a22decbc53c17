"""views.py — the expected file contents, computed independently of the daemon.

A reference filter for the mount tests: the known record values, the labels and
the profiles' field lists of each test configuration, and the rendering rule of
DESIGN.md ("label: value" lines in the order of the profile's field list, a line
break or backslash inside a value escaped). Nothing here reads the daemon's
output or the sealed dataset.

Scenarios:
  city  the fixture of tests/lib/mount.sh (fixture_csv + fixture_config)
  eq    isolation.sh's own dataset and config: three profiles that see the first
        name and one other field each, all of the same length, so that every
        view of a record has the same size but different content

Run as a script: `views.py csv eq` prints the eq scenario's CSV export;
`views.py view SCENARIO USER RECORD` prints one expected view."""
import sys

FIELDS = ('first_name', 'last_name', 'address', 'phone', 'email', 'contact_language',
          'dutch_level', 'mo_status')
CSV_COLUMNS = ('dossiernummer', 'voornaam', 'achternaam', 'adres', 'telefoon', 'email',
               'contacttaal', 'niveau_nederlands', 'status_mo', 'gedeeld_op')

# tests/lib/mount.sh fixture_csv, value by value.
CITY_RECORDS = {
    'INB0000001': dict(first_name='Amina', last_name='Haddad',
                       address='Bruul 12; bus 3\n2800 Mechelen', phone='+32 470 12 34 56',
                       email='amina.haddad@example.be', contact_language='Arabisch',
                       dutch_level='A2', mo_status='bezig'),
    'INB0000002': dict(first_name='Oleksandra', last_name='Kovalenko',
                       address='Hoogstraat 5 \\ achterhuis, 2800 Mechelen',
                       phone='+32 471 00 00 01', email='', contact_language='Oekraïens',
                       dutch_level='geen', mo_status='niet gestart'),
    'INB0000003': dict(first_name='Şükrü', last_name='Yılmaz',
                       address='Nekkerspoel 1, 2800 Mechelen', phone='+32 499 99 99 99',
                       email='sukru@example.be', contact_language='Turks', dutch_level='B1',
                       mo_status='geslaagd'),
}
CITY_LABELS = dict(first_name='voornaam', last_name='achternaam', address='adres',
                   phone='telefoon', email='e-mail', contact_language='contacttaal',
                   dutch_level='niveau Nederlands', mo_status='status MO')
CITY_PROFILES = {
    'pfs_tb': FIELDS,
    'pfs_pm': ('first_name', 'last_name', 'phone', 'email', 'contact_language', 'dutch_level',
               'mo_status'),
    'pfs_pa': ('first_name', 'contact_language', 'dutch_level'),
    'pfs_no': None,  # no profile: no view at all
}

# The eq scenario: address, phone and e-mail are 16 bytes in every record, and
# their labels are 5 bytes, so the three views of a record have one size.
EQ_RECORDS = {
    'INB0000001': dict(first_name='Amina', last_name='Haddad', address='Bruul 12, bus 3A',
                       phone='+32 470 12 34 56', email='amina@example.be',
                       contact_language='Arabisch', dutch_level='A2', mo_status='bezig'),
    'INB0000002': dict(first_name='Oleksandra', last_name='Kovalenko',
                       address='Hoogstraat 5 2BX', phone='+32 471 00 00 01',
                       email='olek@example.org', contact_language='Oekraïens',
                       dutch_level='geen', mo_status='niet gestart'),
    'INB0000003': dict(first_name='Şükrü', last_name='Yılmaz', address='Nekkerspoel 1 Me',
                       phone='+32 499 99 99 99', email='sukru@example.be',
                       contact_language='Turks', dutch_level='B1', mo_status='geslaagd'),
}
EQ_LABELS = dict(first_name='naam', last_name='anaam', address='adres', phone='telnr',
                 email='email', contact_language='taal', dutch_level='niveau',
                 mo_status='status')
EQ_PROFILES = {
    'pfs_tb': ('first_name', 'address'),
    'pfs_pm': ('first_name', 'email'),
    'pfs_pa': ('first_name', 'phone'),
    'pfs_no': None,
}

SCENARIOS = {
    'city': (CITY_RECORDS, CITY_LABELS, CITY_PROFILES),
    'eq': (EQ_RECORDS, EQ_LABELS, EQ_PROFILES),
}


def escape(v):
    return v.replace('\\', '\\\\').replace('\n', '\\n').replace('\r', '\\r')


def view(scenario, user, record):
    """The exact bytes USER must read from RECORD.txt, or None for no view."""
    records, labels, profiles = SCENARIOS[scenario]
    fields = profiles[user]
    if fields is None:
        return None
    rec = records[record]
    return ''.join(f'{labels[f]}: {escape(rec[f])}\n' for f in fields).encode()


def markers(scenario, user, record):
    """Byte strings that must never appear in USER's view of RECORD: every value of
    a field outside USER's profile (of any record), and its words of four or more
    characters, minus anything USER may legitimately see in this record."""
    records, labels, profiles = SCENARIOS[scenario]
    own = view(scenario, user, record) or b''
    allowed = set(profiles[user] or ())
    out = set()
    for rec in records.values():
        for f in FIELDS:
            if f in allowed or not rec[f]:
                continue
            v = escape(rec[f])
            out.add(v)
            out.update(w.strip(',;') for w in v.split() if len(w.strip(',;')) >= 4)
    out.update(labels[f] + ': ' for f in FIELDS if f not in allowed)
    return sorted(m.encode() for m in out if m and m.encode() not in own)


def records(scenario):
    return sorted(SCENARIOS[scenario][0])


def csv(scenario, shared_on):
    recs = SCENARIOS[scenario][0]
    lines = [';'.join(CSV_COLUMNS)]
    for rid in sorted(recs):
        r = recs[rid]
        lines.append(';'.join([rid] + [r[f] for f in FIELDS] + [shared_on]))
    return ''.join(line + '\r\n' for line in lines)


if __name__ == '__main__':
    if sys.argv[1] == 'csv':
        sys.stdout.write(csv(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == 'view':
        sys.stdout.buffer.write(view(sys.argv[2], sys.argv[3], sys.argv[4]) or b'')
    else:
        sys.exit('usage: views.py csv SCENARIO SHARED_ON | view SCENARIO USER RECORD')
