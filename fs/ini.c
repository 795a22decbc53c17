/* ini.c — iniparser wrapped: string lookups only, errors into a buffer (ini.h). */
#include "ini.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iniparser.h>

struct ini {
	dictionary *d;
	char *path;
	const char **sections;
	size_t nsections;
	struct ini_entry *entries;
	size_t nentries;
};

/* iniparser reports through a global printf-like callback without a context
 * pointer; a thread-local buffer carries its last message back to ini_load. */
static __thread char ini_last_error[512];

static int ini_error_cb(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ini_last_error, sizeof(ini_last_error), fmt, ap);
	va_end(ap);
	for (char *p = ini_last_error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return n;
}

/* The section a stored "section:key" belongs to: the longest section prefix. */
static const char *ini_owner(const struct ini *ini, const char *k)
{
	const char *best = NULL;
	size_t bl = 0;

	for (size_t s = 0; s < ini->nsections; s++) {
		size_t l = strlen(ini->sections[s]);
		if (l >= bl && strncmp(k, ini->sections[s], l) == 0 && k[l] == ':') {
			best = ini->sections[s];
			bl = l;
		}
	}
	return best;
}

static int ini_index(struct ini *ini)
{
	dictionary *d = ini->d;

	ini->sections = calloc((size_t)d->size + 1, sizeof(char *));
	ini->entries = calloc((size_t)d->size + 1, sizeof(struct ini_entry));
	if (!ini->sections || !ini->entries)
		return -ENOMEM;
	for (ssize_t i = 0; i < d->size; i++)
		if (d->key[i] && !d->val[i])
			ini->sections[ini->nsections++] = d->key[i];
	for (ssize_t i = 0; i < d->size; i++) {
		struct ini_entry *e = &ini->entries[ini->nentries];
		const char *owner;
		if (!d->key[i] || !d->val[i])
			continue;
		owner = ini_owner(ini, d->key[i]);
		e->section = owner ? owner : "";
		/* iniparser stores a key before any section as ":key" */
		e->key = owner ? d->key[i] + strlen(owner) + 1 : d->key[i] + (d->key[i][0] == ':');
		e->value = d->val[i];
		ini->nentries++;
	}
	return 0;
}

/* iniparser keeps the last of two equal keys (or merges a repeated section)
 * without a word; for access rules that silently drops a line, so a repeat is
 * refused. A light scan of the text with iniparser's own line rules: comments
 * start with ; or #, sections are [name], keys are name = value, names compare
 * case-insensitively, a line ending in a backslash continues. */
static int ini_repeats_check(const char *path, char *err, size_t errlen)
{
	char line[4096], sec[1024] = "", **seen_keys = NULL;
	size_t nseen = 0, cap = 0;
	unsigned lineno = 0;
	bool cont = false;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		/* never skip the check: a file we cannot scan is not loaded */
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* every name is kept, however many: a limit here would let a repeat through */
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *p = line, *end, name[300];
		size_t n;
		bool was_cont = cont, is_section = false;
		lineno++;
		n = strcspn(line, "\r\n");
		line[n] = 0;
		cont = n && line[n - 1] == '\\';
		if (was_cont)
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == ';' || *p == '#')
			continue;
		if (*p == '[' && (end = strchr(p, ']'))) {
			snprintf(name, sizeof(name), "[%.*s]", (int)(end - p - 1), p + 1);
			is_section = true;
		} else if ((end = strchr(p, '='))) {
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if (sec[0])
				snprintf(name, sizeof(name), "%.200s] %.*s", sec, (int)(end - p),
					 p);
			else
				snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
		} else {
			continue;
		}
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (is_section)
			snprintf(sec, sizeof(sec), "%.*s", (int)strlen(name) - 1, name);
		for (size_t i = 0; rc == 0 && i < nseen; i++)
			if (strcmp(seen_keys[i], name) == 0) {
				util_errf(err, errlen, "%s:%u: %s: given twice", path, lineno,
					  name);
				rc = -EINVAL;
			}
		if (rc == 0 && nseen == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **grown = realloc(seen_keys, ncap * sizeof(*grown));
			if (!grown) {
				util_errf(err, errlen, "%s: out of memory", path);
				rc = -ENOMEM;
				break;
			}
			seen_keys = grown;
			cap = ncap;
		}
		if (rc == 0 && !(seen_keys[nseen] = strdup(name))) {
			util_errf(err, errlen, "%s: out of memory", path);
			rc = -ENOMEM;
		} else if (rc == 0) {
			nseen++;
		}
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen_keys[i]);
	free(seen_keys);
	fclose(f);
	return rc;
}

int ini_load(struct ini **out, const char *path, char *err, size_t errlen)
{
	struct ini *ini = calloc(1, sizeof(*ini));
	int rc = 0;

	*out = NULL;
	if (!ini) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (access(path, R_OK) != 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = ini_repeats_check(path, err, errlen);
	if (rc < 0)
		goto fail;
	ini_last_error[0] = 0;
	iniparser_set_error_callback(ini_error_cb);
	ini->d = iniparser_load(path);
	if (!ini->d || ini_last_error[0]) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: %s", path,
			  ini_last_error[0] ? ini_last_error : "cannot parse");
		goto fail;
	}
	ini->path = strdup(path);
	if (!ini->path || ini_index(ini) < 0) {
		rc = -ENOMEM;
		util_errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	*out = ini;
	return 0;
fail:
	ini_free(ini);
	return rc;
}

void ini_free(struct ini *ini)
{
	if (!ini)
		return;
	if (ini->d)
		iniparser_freedict(ini->d);
	free(ini->sections);
	free(ini->entries);
	free(ini->path);
	free(ini);
}

const char *ini_path(const struct ini *ini)
{
	return ini->path;
}

size_t ini_nsections(const struct ini *ini)
{
	return ini->nsections;
}

const char *ini_section(const struct ini *ini, size_t i)
{
	return ini->sections[i];
}

size_t ini_nentries(const struct ini *ini)
{
	return ini->nentries;
}

const struct ini_entry *ini_entry(const struct ini *ini, size_t i)
{
	return &ini->entries[i];
}

const char *ini_get(const struct ini *ini, const char *section, const char *key)
{
	for (size_t i = 0; i < ini->nentries; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
		    strcmp(ini->entries[i].key, key) == 0)
			return ini->entries[i].value;
	return NULL;
}
