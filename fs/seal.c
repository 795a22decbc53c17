/* seal.c — protocol definition + CSV export -> dataset writer (see seal.h).
 *
 * Every refusal happens before anything is written: the writer streams ciphertext
 * to an unlinked temporary file and only dataset_writer_finish creates the output
 * (temp file, verify, rename). Messages name positions, never values: the CSV
 * holds personal data. */
#include "seal.h"
#include "clock.h"
#include "csv.h"
#include "ini.h"
#include "keys.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const seal_protocol_keys[] = {"id",	"issuer",   "recipient", "start",
						 "end", "timezone", "retention", NULL};

static int seal_key_known(const char *key)
{
	for (int i = 0; seal_protocol_keys[i]; i++)
		if (strcmp(key, seal_protocol_keys[i]) == 0)
			return 1;
	return 0;
}

/* Every section and key must be known; every [protocol] key is required. */
static int seal_protocol_schema(const struct ini *ini, char *err, size_t errlen)
{
	const char *path = ini_path(ini);

	for (size_t i = 0; i < ini_nsections(ini); i++) {
		const char *s = ini_section(ini, i);
		if (strcmp(s, "protocol") != 0 && strcmp(s, "fields") != 0) {
			util_errf(err, errlen, "%s: [%s]: unknown section", path, s);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < ini_nentries(ini); i++) {
		const struct ini_entry *e = ini_entry(ini, i);
		if (!*e->section) {
			util_errf(err, errlen, "%s: %s: key outside any section", path, e->key);
			return -EINVAL;
		}
		if (strcmp(e->section, "protocol") == 0 && !seal_key_known(e->key)) {
			util_errf(err, errlen, "%s: [%s] %s: unknown key", path, e->section,
				  e->key);
			return -EINVAL;
		}
	}
	for (int i = 0; seal_protocol_keys[i]; i++) {
		const char *v = ini_get(ini, "protocol", seal_protocol_keys[i]);
		if (!v || !*v) {
			util_errf(err, errlen, "%s: [protocol] %s: missing", path,
				  seal_protocol_keys[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int seal_copy(char *dst, const char *src, const char *path, const char *sec, const char *key,
		     char *err, size_t errlen)
{
	if (strlen(src) > DATASET_STR_MAX) {
		util_errf(err, errlen, "%s: [%s] %s: longer than %d bytes", path, sec, key,
			  DATASET_STR_MAX);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

/* The [protocol] section into p->terms. */
static int seal_protocol_terms(struct seal_protocol *p, const struct ini *ini, char *err,
			       size_t errlen)
{
	struct dataset_terms *t = &p->terms;
	const char *path = ini_path(ini), *ret = ini_get(ini, "protocol", "retention");
	int rc = 0;

	rc |= seal_copy(t->protocol_id, ini_get(ini, "protocol", "id"), path, "protocol", "id", err,
			errlen);
	rc |= seal_copy(t->issuer, ini_get(ini, "protocol", "issuer"), path, "protocol", "issuer",
			err, errlen);
	rc |= seal_copy(t->recipient, ini_get(ini, "protocol", "recipient"), path, "protocol",
			"recipient", err, errlen);
	rc |= seal_copy(t->timezone, ini_get(ini, "protocol", "timezone"), path, "protocol",
			"timezone", err, errlen);
	if (rc)
		return -EINVAL;
	if (clock_parse_date(ini_get(ini, "protocol", "start"), &t->start_day) < 0 ||
	    clock_parse_date(ini_get(ini, "protocol", "end"), &t->end_day) < 0) {
		int bad_start = clock_parse_date(ini_get(ini, "protocol", "start"), &t->start_day);
		util_errf(err, errlen, "%s: [protocol] %s: not a date (YYYY-MM-DD)", path,
			  bad_start ? "start" : "end");
		return -EINVAL;
	}
	if (t->end_day < t->start_day) {
		util_errf(err, errlen, "%s: [protocol] end: before start", path);
		return -EINVAL;
	}
	if (clock_tz_check(t->timezone) < 0) {
		util_errf(err, errlen, "%s: [protocol] timezone: unknown time zone", path);
		return -EINVAL;
	}
	if (clock_parse_retention(ret, &t->retention_months) < 0) {
		util_errf(err, errlen, "%s: [protocol] retention: not Ny or Nm (1 to 1200 months)",
			  path);
		return -EINVAL;
	}
	t->retention_unit = ret[strlen(ret) - 1];
	return 0;
}

static int seal_field_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DATASET_FIELD_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Does another field already use this column header? */
static int seal_column_taken(const struct seal_protocol *p, const char *col)
{
	if (strcmp(p->id_column, col) == 0 || strcmp(p->shared_column, col) == 0)
		return 1;
	for (unsigned i = 0; i < p->terms.nfields; i++)
		if (strcmp(p->columns[i], col) == 0)
			return 1;
	return 0;
}

/* One [fields] entry: id, shared_on, or a record field. */
static int seal_protocol_field(struct seal_protocol *p, const struct ini_entry *e, const char *path,
			       char *err, size_t errlen)
{
	struct dataset_terms *t = &p->terms;
	char *dst;

	if (!seal_field_name_ok(e->key)) {
		util_errf(err, errlen, "%s: [fields] %s: field id must be [a-z0-9_]{1,32}", path,
			  e->key);
		return -EINVAL;
	}
	if (!*e->value || strlen(e->value) > DATASET_STR_MAX || seal_column_taken(p, e->value)) {
		util_errf(err, errlen, "%s: [fields] %s: %s", path, e->key,
			  *e->value ? "column header empty, too long, or used twice"
				    : "column header missing");
		return -EINVAL;
	}
	if (strcmp(e->key, "id") == 0) {
		dst = p->id_column;
	} else if (strcmp(e->key, "shared_on") == 0) {
		dst = p->shared_column;
	} else {
		if (t->nfields == DATASET_FIELDS_MAX) {
			util_errf(err, errlen, "%s: [fields] %s: more than %d fields", path, e->key,
				  DATASET_FIELDS_MAX);
			return -EINVAL;
		}
		strcpy(t->fields[t->nfields], e->key);
		dst = p->columns[t->nfields++];
	}
	strcpy(dst, e->value);
	return 0;
}

int seal_protocol_load(struct seal_protocol *p, const char *path, char *err, size_t errlen)
{
	struct ini *ini = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = ini_load(&ini, path, err, errlen);
	if (rc == 0)
		rc = seal_protocol_schema(ini, err, errlen);
	if (rc == 0)
		rc = seal_protocol_terms(p, ini, err, errlen);
	for (size_t i = 0; rc == 0 && i < ini_nentries(ini); i++) {
		const struct ini_entry *e = ini_entry(ini, i);
		if (strcmp(e->section, "fields") == 0)
			rc = seal_protocol_field(p, e, path, err, errlen);
	}
	if (rc == 0 && !p->id_column[0]) {
		rc = -EINVAL;
		util_errf(err, errlen,
			  "%s: [fields] id: missing (the record id column is required)", path);
	}
	ini_free(ini);
	return rc;
}

/* Where each CSV column goes: -1 id, -2 shared_on, else a field index. */
struct seal_map {
	int col_of_field[DATASET_FIELDS_MAX];
	int id_col, shared_col;
	size_t ncols;
};

/* A column header as a message may show it: at most 64 bytes (cut at a
 * character boundary, then "..."), with quotes, backslashes and control bytes
 * as '?' (the CSV reader has already checked it is UTF-8). A header is the
 * export's schema, not personal data. */
static void seal_header_name(const char *h, char *out, size_t cap)
{
	size_t n = strlen(h), k = n > 64 ? 64 : n, o = 0;

	while (k < n && k > 0 && ((unsigned char)h[k] & 0xc0) == 0x80)
		k--;
	for (size_t i = 0; i < k && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)h[i];
		out[o++] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '?' : (char)c;
	}
	if (k < n && o + 4 < cap)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = 0;
}

static int seal_header_map(struct seal_map *m, const struct seal_protocol *p,
			   const struct csv_row *hdr, const char *csv, char *err, size_t errlen)
{
	const struct dataset_terms *t = &p->terms;

	m->ncols = hdr->nfields;
	m->id_col = m->shared_col = -1;
	for (unsigned f = 0; f < t->nfields; f++)
		m->col_of_field[f] = -1;
	for (size_t c = 0; c < hdr->nfields; c++) {
		const char *h = hdr->fields[c].data;
		int known = 0, dup = 0;
		if (strcmp(h, p->id_column) == 0)
			known = 1, dup = m->id_col >= 0, m->id_col = (int)c;
		else if (p->shared_column[0] && strcmp(h, p->shared_column) == 0)
			known = 1, dup = m->shared_col >= 0, m->shared_col = (int)c;
		for (unsigned f = 0; !known && f < t->nfields; f++)
			if (strcmp(h, p->columns[f]) == 0)
				known = 1, dup = m->col_of_field[f] >= 0,
				m->col_of_field[f] = (int)c;
		if (!known || dup) {
			char name[80];
			seal_header_name(h, name, sizeof(name));
			util_errf(err, errlen,
				  dup ? "%s:%u:%zu: column \"%s\" appears twice"
				      : "%s:%u:%zu: column \"%s\" is not listed in the protocol "
					"(Art. 3, data minimisation)",
				  csv, hdr->line, c + 1, name);
			return -EINVAL;
		}
	}
	if (m->id_col < 0) {
		util_errf(err, errlen, "%s:%u: no id column (\"%s\")", csv, hdr->line,
			  p->id_column);
		return -EINVAL;
	}
	for (unsigned f = 0; f < t->nfields; f++)
		if (m->col_of_field[f] < 0) {
			util_errf(err, errlen, "%s:%u: no column \"%s\" for field %s", csv,
				  hdr->line, p->columns[f], t->fields[f]);
			return -EINVAL;
		}
	return 0;
}

struct seal_ctx {
	const struct seal_protocol *p;
	struct seal_map map;
	struct dataset_writer *w;
	unsigned *lines; /* CSV line of each record, for duplicate messages */
	size_t n, cap;
	int32_t today;
	const char *csv;
};

/* The record's shared_on: its column, or the seal date; inside the window. */
static int seal_row_date(struct seal_ctx *c, const struct csv_row *row, int32_t *day, char *err,
			 size_t errlen)
{
	const struct dataset_terms *t = &c->p->terms;
	int col = c->map.shared_col;

	*day = c->today;
	if (col >= 0 && clock_parse_date(row->fields[col].data, day) < 0) {
		util_errf(err, errlen, "%s:%u:%d: not a valid date (YYYY-MM-DD)", c->csv, row->line,
			  col + 1);
		return -EINVAL;
	}
	if (*day < t->start_day || *day > t->end_day) {
		if (col >= 0)
			util_errf(err, errlen, "%s:%u:%d: date outside the protocol window", c->csv,
				  row->line, col + 1);
		else
			util_errf(err, errlen,
				  "%s:%u: no shared_on column, and today is outside the protocol "
				  "window",
				  c->csv, row->line);
		return -ERANGE;
	}
	return 0;
}

static int seal_row(struct seal_ctx *c, const struct csv_row *row, char *err, size_t errlen)
{
	const char *vals[DATASET_FIELDS_MAX];
	size_t lens[DATASET_FIELDS_MAX], idc = (size_t)c->map.id_col;
	const struct csv_field *id = &row->fields[idc];
	char msg[256];
	int32_t day;
	int rc;

	if (id->len == 0 || dataset_id_check(id->data, id->len) < 0) {
		util_errf(err, errlen, "%s:%u:%zu: %s", c->csv, row->line, idc + 1,
			  id->len
			      ? "id not of the form [A-Za-z0-9._-]{1,64} (not starting with '.')"
			      : "empty id");
		return -EINVAL;
	}
	rc = seal_row_date(c, row, &day, err, errlen);
	if (rc < 0)
		return rc;
	for (unsigned f = 0; f < c->p->terms.nfields; f++) {
		vals[f] = row->fields[c->map.col_of_field[f]].data;
		lens[f] = row->fields[c->map.col_of_field[f]].len;
	}
	rc = dataset_writer_add(c->w, id->data, id->len, day, vals, lens, msg, sizeof(msg));
	if (rc < 0) {
		util_errf(err, errlen, "%s:%u: %s", c->csv, row->line, msg);
		return rc;
	}
	if (c->n == c->cap) {
		unsigned *l = realloc(c->lines, (c->cap = c->cap ? c->cap * 2 : 1024) * sizeof(*l));
		if (!l) {
			util_errf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		c->lines = l;
	}
	c->lines[c->n++] = row->line;
	return 0;
}

/* Read the whole export into the writer. */
static int seal_rows(struct seal_ctx *c, struct csv_reader *r, char *err, size_t errlen)
{
	struct csv_row row;
	int rc = csv_next(r, &row, err, errlen);

	if (rc == 0) {
		util_errf(err, errlen, "%s: empty file", c->csv);
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	rc = seal_header_map(&c->map, c->p, &row, c->csv, err, errlen);
	while (rc == 0 && (rc = csv_next(r, &row, err, errlen)) == 1)
		rc = seal_row(c, &row, err, errlen);
	return rc;
}

static int seal_keys(const struct seal_args *a, struct keys_secret *iss, struct keys_public *rcp,
		     char *err, size_t errlen)
{
	int rc = keys_secret_load(iss, a->issuer_key, KEYS_ISSUER, a->passphrase_file, err, errlen);

	if (rc == 0)
		rc = keys_public_load(rcp, a->recipient, KEYS_RECIPIENT, err, errlen);
	return rc;
}

int seal_run(const struct seal_args *a, size_t *nrecords, char *err, size_t errlen)
{
	struct seal_protocol p;
	struct seal_ctx c = {.p = &p, .csv = a->csv};
	struct keys_secret iss = {0};
	struct keys_public rcp;
	struct csv_reader *r = NULL;
	size_t d1 = SIZE_MAX, d2 = SIZE_MAX; /* set only for a duplicate id */
	int rc = seal_protocol_load(&p, a->protocol, err, errlen);

	if (rc == 0)
		rc = seal_keys(a, &iss, &rcp, err, errlen);
	if (rc == 0)
		rc = clock_day_of(p.terms.timezone, clock_now(), &c.today);
	if (rc < 0)
		goto out;
	p.terms.serial = a->serial;
	p.terms.issued_at = clock_now();
	rc = dataset_writer_new(&c.w, &p.terms, &rcp, a->out, err, errlen);
	if (rc == 0)
		rc = csv_open(&r, a->csv, err, errlen);
	if (rc == 0)
		rc = seal_rows(&c, r, err, errlen);
	csv_close(r); /* wipes the plaintext export before the slow part */
	if (rc < 0)
		goto out;
	rc = dataset_writer_finish(c.w, &iss, a->force, &d1, &d2, err, errlen);
	if (rc == -EEXIST && d2 < c.n)
		util_errf(err, errlen, "%s:%u:%d: duplicate id (first on line %u)", a->csv,
			  c.lines[d2], c.map.id_col + 1, c.lines[d1]);
	*nrecords = c.n;
out:
	dataset_writer_free(c.w);
	keys_secret_free(&iss);
	free(c.lines);
	return rc;
}
