/* csv.h — RFC 4180 reader for the agency's export (issuer side only).
 *
 * Accepts what Belgian Excel writes: `;` or `,` separator (detected from the
 * header line), optional UTF-8 BOM, LF or CRLF line ends, quoted fields holding
 * separators, doubled quotes and line breaks. Refuses, with a message naming file,
 * line and column (the 1-based field number): invalid UTF-8, a NUL byte, an
 * unterminated quote, a stray quote inside an unquoted field or text after a
 * closing quote, a row whose field count differs from the header's, an empty file.
 * Messages never quote field contents (they are personal data).
 *
 * The whole file is held in one malloc'ed buffer that csv_close wipes. Fields are
 * unescaped in place; a row's field pointers stay valid until csv_close. Not
 * thread-safe; one reader per thread. */
#ifndef PFS_CSV_H
#define PFS_CSV_H

#include <stddef.h>

struct csv_field {
	const char *data; /* NUL-terminated, unescaped; may contain line breaks */
	size_t len;
};

struct csv_row {
	struct csv_field *fields; /* owned by the reader; valid until the next csv_next */
	size_t nfields;
	unsigned line; /* physical line (1-based) on which the row starts */
};

struct csv_reader;

/* Open path and check it as a whole (UTF-8, NUL bytes, not empty). On error
 * *r is NULL and nothing needs closing. */
int csv_open(struct csv_reader **r, const char *path, char *err, size_t errlen);

/* Same, over a copy of len bytes at buf; name is used in messages. */
int csv_open_mem(struct csv_reader **r, const char *name, const void *buf, size_t len, char *err,
		 size_t errlen);

/* Next row: 1 with *row filled, 0 at the end, or a negative errno with err set.
 * The first row is the header. Every later row must have the header's field
 * count. Blank lines at the very end of the file are ignored. */
int csv_next(struct csv_reader *r, struct csv_row *row, char *err, size_t errlen);

/* The separator detected from the header line: ';' or ','. */
char csv_separator(const struct csv_reader *r);

/* Wipe and free everything; NULL is fine. */
void csv_close(struct csv_reader *r);

#endif
