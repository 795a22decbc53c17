/* csv.c — RFC 4180 reader for the issuer's export (see csv.h).
 *
 * Guarantees: no row is handed out from a file that is not valid text: csv_open
 * checks the whole buffer first (RFC 3629 UTF-8: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequence; no NUL byte). Every refusal names
 * file, physical line and, where one applies, the 1-based field number, and never a
 * byte of field content: the export holds personal data (protocol Art. 3 and 6), and
 * for the same reason the one buffer holding it is wiped before it is freed.
 *
 * Line ends are LF or CRLF. Inside quotes every byte is data (CR and LF included);
 * outside quotes a CR not followed by LF is refused rather than guessed at.
 * Error codes: -EILSEQ for invalid UTF-8 or a NUL byte, -EINVAL for a malformed
 * file, -ENOMEM, -EFBIG, or what reading the file returned. */
#include "csv.h"
#include "util.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Line numbers are unsigned: this keeps every file's line count in range. */
#define CSV_MAX_BYTES ((size_t)1 << 31)

enum csv_state { CSV_READING, CSV_DONE, CSV_FAILED };

struct csv_reader {
	char *buf;   /* the whole file plus a NUL; wiped by csv_close */
	size_t size; /* bytes allocated at buf */
	char *name;  /* for messages */
	char *pos;   /* where the next row starts */
	char *start; /* after the BOM */
	char *end;   /* before trailing line breaks; *end is a NUL sentinel */
	struct csv_field *fields;
	size_t nfields; /* the header's field count */
	unsigned line;	/* physical line at pos */
	enum csv_state state;
	int failed_rc;
	char sep;
	bool stop[256]; /* bytes that end an unquoted field */
};

static int fail_at(const struct csv_reader *r, unsigned line, size_t col, const char *msg,
		   char *err, size_t errlen)
{
	util_errf(err, errlen, "%s:%u:%zu: %s", r->name, line, col, msg);
	return -EINVAL;
}

/* ---- open-time checks ---- */

/* Length of the valid multi-byte UTF-8 sequence at s (avail bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* Second-byte limits exclude overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4). */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n > avail || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Number of leading bytes of s (n bytes) that are ASCII and not NUL: the fast path
 * of the check, since almost every byte of an export is. */
static size_t plain_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
		int bits = _mm_movemask_epi8(v) | _mm_movemask_epi8(nul);

		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	while (i < n && s[i] >= 0x01 && s[i] < 0x80)
		i++;
	return i;
}

/* Offset of the first NUL byte or invalid UTF-8 sequence in s, or n if none. */
static size_t text_check(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	for (;;) {
		i += plain_prefix(s + i, n - i);
		if (i == n || s[i] == 0)
			return i;
		k = utf8_seq(s + i, n - i);
		if (k == 0)
			return i;
		i += k;
	}
}

/* Physical line and field number of at, walking from the start as the parser would.
 * Only used to report an error, so speed does not matter. */
static void locate(const struct csv_reader *r, const char *at, unsigned *line, size_t *col)
{
	bool quoted = false, fstart = true;
	const char *p;

	*line = 1;
	*col = 1;
	for (p = r->start; p < at; p++) {
		if (*p == '\n')
			(*line)++;
		if (quoted) {
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (*p == '"' && fstart)
			quoted = true;
		if (*p == r->sep || *p == '\n')
			*col = *p == '\n' ? 1 : *col + 1;
		fstart = *p == r->sep || *p == '\n';
	}
}

static int check_text(const struct csv_reader *r, char *err, size_t errlen)
{
	size_t n = (size_t)(r->end - r->start);
	size_t off = text_check((const unsigned char *)r->start, n);
	unsigned line;
	size_t col;

	if (off == n)
		return 0;
	locate(r, r->start + off, &line, &col);
	util_errf(err, errlen, "%s:%u:%zu: %s", r->name, line, col,
		  r->start[off] ? "invalid UTF-8" : "NUL byte");
	return -EILSEQ;
}

/* Count ';' and ',' outside quotes in the first record: the more frequent is the
 * separator, ';' on a tie, and it gives the header's field count. */
static void detect_separator(struct csv_reader *r)
{
	size_t semi = 0, comma = 0;
	bool quoted = false;
	const char *p;

	for (p = r->start; p < r->end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == '\n')
			break;
		else if (*p == ';')
			semi++;
		else if (*p == ',')
			comma++;
	}
	r->sep = comma > semi ? ',' : ';';
	r->nfields = (comma > semi ? comma : semi) + 1;
}

/* Skip a BOM, drop trailing line breaks, refuse an empty file. */
static int frame(struct csv_reader *r, size_t len, char *err, size_t errlen)
{
	r->start = r->buf;
	r->end = r->buf + len;
	if (len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
		r->start += 3;
	while (r->end > r->start && r->end[-1] == '\n') {
		r->end--;
		if (r->end > r->start && r->end[-1] == '\r')
			r->end--;
	}
	if (r->end == r->start) {
		util_errf(err, errlen, "%s: empty file", r->name);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct csv_reader *r, size_t len, char *err, size_t errlen)
{
	int rc;

	rc = frame(r, len, err, errlen);
	if (rc < 0)
		return rc;
	detect_separator(r);
	rc = check_text(r, err, errlen);
	if (rc < 0)
		return rc;
	r->fields = calloc(r->nfields, sizeof(*r->fields));
	if (!r->fields) {
		util_errf(err, errlen, "%s: out of memory", r->name);
		return -ENOMEM;
	}
	*r->end = '\0';
	r->stop[(unsigned char)r->sep] = r->stop['\n'] = r->stop['\r'] = true;
	r->stop['"'] = r->stop['\0'] = true;
	r->pos = r->start;
	r->line = 1;
	return 0;
}

/* Takes ownership of buf (len bytes plus a NUL) whatever happens. */
static int reader_new(struct csv_reader **out, const char *name, char *buf, size_t len, char *err,
		      size_t errlen)
{
	struct csv_reader *r;
	int rc = 0;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r)
		r->name = strdup(name);
	if (!r || !r->name) {
		rc = -ENOMEM;
		util_errf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	r->buf = buf;
	r->size = len + 1;
	buf = NULL;
	rc = setup(r, len, err, errlen);
out:
	if (rc < 0) {
		if (buf)
			sodium_memzero(buf, len + 1);
		free(buf);
		csv_close(r);
	} else {
		*out = r;
	}
	return rc;
}

int csv_open(struct csv_reader **r, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc;

	*r = NULL;
	rc = util_read_file(path, &buf, &len, CSV_MAX_BYTES, err, errlen);
	if (rc < 0)
		return rc;
	return reader_new(r, path, (char *)buf, len, err, errlen);
}

int csv_open_mem(struct csv_reader **r, const char *name, const void *buf, size_t len, char *err,
		 size_t errlen)
{
	char *copy;

	*r = NULL;
	if (len > CSV_MAX_BYTES) {
		util_errf(err, errlen, "%s: file too large (%zu bytes, limit %zu)", name, len,
			  CSV_MAX_BYTES);
		return -EFBIG;
	}
	copy = malloc(len + 1);
	if (!copy) {
		util_errf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	return reader_new(r, name, copy, len, err, errlen);
}

/* ---- rows ---- */

/* q is just past a field's data. Accept a separator, LF, CRLF or the end of input
 * (the sentinel NUL: the text check rules out any other); other names what else was
 * found. Returns the separator, '\n' at the end of a record or 0 at the end of input,
 * with *next after it; or a negative errno. */
static int field_end(struct csv_reader *r, const char *q, char **next, size_t col,
		     const char *other, char *err, size_t errlen)
{
	int c = (unsigned char)*q;

	if (c == '\r' && q[1] == '\n') {
		*next = (char *)q + 2;
		c = '\n';
	} else if (c == (unsigned char)r->sep || c == '\n' || c == '\0') {
		*next = (char *)q + 1;
	} else {
		return fail_at(r, r->line, col, c == '\r' ? "stray carriage return" : other, err,
			       errlen);
	}
	if (c == '\n')
		r->line++;
	return c;
}

#ifdef __SSE2__
/* Skip 16 bytes at a time while none can end an unquoted field; stop short of end. */
static char *skip_plain16(const struct csv_reader *r, char *p)
{
	const __m128i sep = _mm_set1_epi8(r->sep), lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"');
	__m128i v, hit;
	int bits;

	for (; r->end - p >= 16; p += 16) {
		v = _mm_loadu_si128((const __m128i *)(void *)p);
		hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sep), _mm_cmpeq_epi8(v, lf)),
				   _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
		bits = _mm_movemask_epi8(hit);
		if (bits)
			return p + __builtin_ctz((unsigned)bits);
	}
	return p;
}
#endif

/* The first byte at or after p that can end an unquoted field: where the time goes on
 * a large export. The sentinel NUL at end stops the byte loop. */
static char *scan_plain(const struct csv_reader *r, char *p)
{
	const unsigned char *q;

#ifdef __SSE2__
	p = skip_plain16(r, p);
#endif
	for (q = (const unsigned char *)p; !r->stop[*q]; q++)
		;
	return (char *)q;
}

static int field_plain(struct csv_reader *r, char **pp, struct csv_field *f, size_t col, char *err,
		       size_t errlen)
{
	char *q = scan_plain(r, *pp);
	int c;

	f->data = *pp;
	f->len = (size_t)(q - *pp);
	c = field_end(r, q, pp, col, "stray quote in unquoted field", err, errlen);
	if (c >= 0)
		*q = '\0';
	return c;
}

static unsigned count_lf(const char *s, const char *e)
{
	unsigned n = 0;

	while ((s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
		n++;
		s++;
	}
	return n;
}

/* *pp is at the opening quote. The data is moved left over it and over the first
 * quote of each doubled pair, so the field shrinks in place. */
static int field_quoted(struct csv_reader *r, char **pp, struct csv_field *f, size_t col, char *err,
			size_t errlen)
{
	char *dst = *pp, *src = *pp + 1, *q;
	unsigned open_line = r->line;

	for (;;) {
		q = memchr(src, '"', (size_t)(r->end - src));
		if (!q)
			return fail_at(r, open_line, col, "unterminated quote", err, errlen);
		r->line += count_lf(src, q);
		memmove(dst, src, (size_t)(q - src));
		dst += q - src;
		if (q[1] != '"')
			break;
		*dst++ = '"';
		src = q + 2;
	}
	f->data = *pp;
	f->len = (size_t)(dst - *pp);
	*dst = '\0'; /* dst < q + 1: the byte field_end reads is intact */
	return field_end(r, q + 1, pp, col, "text after closing quote", err, errlen);
}

/* Fields past the header's count are parsed into a spare slot only to be counted. */
static int parse_row(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen)
{
	struct csv_field spare, *f;
	char *p = r->pos;
	size_t k = 0;
	int c;

	row->line = r->line;
	do {
		f = k < r->nfields ? &r->fields[k] : &spare;
		if (*p == '"')
			c = field_quoted(r, &p, f, k + 1, err, errlen);
		else
			c = field_plain(r, &p, f, k + 1, err, errlen);
		if (c < 0)
			return c;
		k++;
	} while (c == r->sep);
	r->pos = p;
	if (c == '\0')
		r->state = CSV_DONE;
	if (k != r->nfields) {
		util_errf(err, errlen, "%s:%u: %zu field%s, header has %zu", r->name, row->line, k,
			  k == 1 ? "" : "s", r->nfields);
		return -EINVAL;
	}
	row->fields = r->fields;
	row->nfields = k;
	return 1;
}

int csv_next(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen)
{
	int rc;

	memset(row, 0, sizeof(*row));
	if (r->state == CSV_FAILED) {
		util_errf(err, errlen, "%s: reader stopped at an earlier error", r->name);
		return r->failed_rc;
	}
	if (r->state == CSV_DONE)
		return 0;
	rc = parse_row(r, row, err, errlen);
	if (rc < 0) {
		memset(row, 0, sizeof(*row));
		r->state = CSV_FAILED;
		r->failed_rc = rc;
	}
	return rc;
}

char csv_separator(const struct csv_reader *r)
{
	return r->sep;
}

void csv_close(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->buf)
		sodium_memzero(r->buf, r->size);
	free(r->buf);
	free(r->fields);
	free(r->name);
	free(r);
}
