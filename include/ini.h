/* ini.h — a thin, safe layer over iniparser for every INI file protocolfs reads.
 *
 * Debian 12's iniparser 4.1 crashes in its typed getters when a key names a
 * section (CVE-2023-33461), so only string lookups exist here and callers parse
 * values themselves. Loading routes iniparser's error output into the message
 * buffer. Section and key names are lower-cased by iniparser; values are not.
 * An inline "; comment" after a value is stripped by iniparser. */
#ifndef PFS_INI_H
#define PFS_INI_H

#include <stddef.h>

struct ini;

/* One key of the file: its section ("" for a key before any section), key, value. */
struct ini_entry {
	const char *section;
	const char *key;
	const char *value;
};

int ini_load(struct ini **ini, const char *path, char *err, size_t errlen);
void ini_free(struct ini *ini);

/* The path the file was loaded from. */
const char *ini_path(const struct ini *ini);

/* Sections in file order. */
size_t ini_nsections(const struct ini *ini);
const char *ini_section(const struct ini *ini, size_t i);

/* Keys in file order. */
size_t ini_nentries(const struct ini *ini);
const struct ini_entry *ini_entry(const struct ini *ini, size_t i);

/* Value of section.key or NULL. */
const char *ini_get(const struct ini *ini, const char *section, const char *key);

#endif
