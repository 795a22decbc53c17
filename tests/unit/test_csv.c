/* test_csv.c — the CSV reader against its contract in csv.h: separator detection,
 * BOM, CRLF, quoting, line numbers, and every refusal with its exact message. */
#include "csv.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

/* A string literal and its length, embedded NUL bytes included. */
#define LIT(s) (s), sizeof(s) - 1

static char err[512];

static struct csv_reader *open_buf(const char *buf, size_t len)
{
	struct csv_reader *r = NULL;

	err[0] = '\0';
	if (csv_open_mem(&r, "t.csv", buf, len, err, sizeof(err)) != 0)
		printf("  open failed: %s\n", err);
	return r;
}

static int next(struct csv_reader *r, struct csv_row *row)
{
	err[0] = '\0';
	return csv_next(r, row, err, sizeof(err));
}

/* Open and read to the end or the first error; returns 0 or the negative errno, with
 * the message in err and the number of rows read (header included) in *rows. */
static int read_all(const char *buf, size_t len, size_t *rows)
{
	struct csv_reader *r = NULL;
	struct csv_row row;
	int rc;

	*rows = 0;
	err[0] = '\0';
	rc = csv_open_mem(&r, "t.csv", buf, len, err, sizeof(err));
	if (rc < 0)
		return rc;
	while ((rc = csv_next(r, &row, err, sizeof(err))) == 1)
		(*rows)++;
	csv_close(r);
	return rc;
}

/* The whole file is refused at open, with this message. */
static void check_open_error(const char *buf, size_t len, int want_rc, const char *want)
{
	struct csv_reader *r = (struct csv_reader *)1;

	err[0] = '\0';
	CHECK_INT(csv_open_mem(&r, "t.csv", buf, len, err, sizeof(err)), want_rc);
	CHECK(r == NULL);
	CHECK_STR(err, want);
}

/* Opening succeeds; reading fails with -EINVAL and this message. */
static void check_row_error(const char *buf, size_t len, const char *want)
{
	size_t rows;

	CHECK_INT(read_all(buf, len, &rows), -EINVAL);
	CHECK_STR(err, want);
}

static void check_row(const struct csv_row *row, unsigned line, size_t n, const char *const *want)
{
	CHECK_INT(row->line, line);
	CHECK_INT(row->nfields, n);
	for (size_t i = 0; i < n && i < row->nfields; i++) {
		CHECK_STR(row->fields[i].data, want[i]);
		CHECK_INT(row->fields[i].len, strlen(want[i]));
	}
}

TEST(semicolon_detected)
{
	struct csv_reader *r = open_buf(LIT("a;b;c\n1;2;3\n"));
	struct csv_row row;

	CHECK(r != NULL);
	CHECK_INT(csv_separator(r), ';');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 3, (const char *[]){"a", "b", "c"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 3, (const char *[]){"1", "2", "3"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(comma_detected)
{
	struct csv_reader *r = open_buf(LIT("a,b;x,c\n1,2,3\n"));
	struct csv_row row;

	CHECK_INT(csv_separator(r), ',');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 3, (const char *[]){"a", "b;x", "c"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 3, (const char *[]){"1", "2", "3"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(separator_tie_and_none_give_semicolon)
{
	struct csv_reader *r = open_buf(LIT("a;b,c\n1;2"));
	struct csv_row row;

	CHECK_INT(csv_separator(r), ';');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"a", "b,c"});
	csv_close(r);

	r = open_buf(LIT("name\nx\n"));
	CHECK_INT(csv_separator(r), ';');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 1, (const char *[]){"name"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 1, (const char *[]){"x"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(separator_counts_only_first_record_outside_quotes)
{
	struct csv_reader *r = open_buf(LIT("\"a;b;c\",d,\"e\n;;\"\"\"\n1,2,3\n;;;;;;\n"));
	struct csv_row row;

	CHECK_INT(csv_separator(r), ',');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 3, (const char *[]){"a;b;c", "d", "e\n;;\""});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 3, (const char *[]){"1", "2", "3"});
	CHECK_INT(next(r, &row), -EINVAL);
	CHECK_STR(err, "t.csv:4: 1 field, header has 3");
	csv_close(r);
}

TEST(bom_stripped)
{
	struct csv_reader *r = open_buf(LIT("\xEF\xBB\xBFid;naam\n1;x\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"id", "naam"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 2, (const char *[]){"1", "x"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(bom_before_quoted_header)
{
	struct csv_reader *r = open_buf(LIT("\xEF\xBB\xBF\"id\";\"naam\"\r\n1;x"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"id", "naam"});
	csv_close(r);
}

TEST(crlf_line_ends)
{
	struct csv_reader *r = open_buf(LIT("a;b\r\n1;2\r\n\"3\";\"4\"\r\n;\r\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"a", "b"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 2, (const char *[]){"1", "2"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 2, (const char *[]){"3", "4"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 4, 2, (const char *[]){"", ""});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(quoted_separators)
{
	struct csv_reader *r = open_buf(LIT("a;b;c\n\"x;y\";\";\";\";;;\"\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 3, (const char *[]){"x;y", ";", ";;;"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(doubled_quotes)
{
	struct csv_reader *r =
	    open_buf(LIT("a;b;c;d\n\"say \"\"hi\"\"\";\"\"\"\";\"\"\"\"\"\";\"x\"\"\"\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 4, (const char *[]){"say \"hi\"", "\"", "\"\"", "x\""});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(quoted_newlines_and_line_numbers)
{
	struct csv_reader *r =
	    open_buf(LIT("id;note\n1;\"two\nlines\"\n2;x\n3;\"a\r\nb\r\nc\"\n4;\"\n\"\n5;y"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"id", "note"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 2, (const char *[]){"1", "two\nlines"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 4, 2, (const char *[]){"2", "x"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 5, 2, (const char *[]){"3", "a\r\nb\r\nc"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 8, 2, (const char *[]){"4", "\n"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 10, 2, (const char *[]){"5", "y"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(lone_cr_inside_quotes_is_data)
{
	struct csv_reader *r = open_buf(LIT("a;b\n\"x\ry\";\"\r\"\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 2, (const char *[]){"x\ry", "\r"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(empty_fields)
{
	struct csv_reader *r = open_buf(LIT("a;b;c\n;;\n\"\";;\"\"\nx;;\n;;y"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 3, (const char *[]){"", "", ""});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 3, (const char *[]){"", "", ""});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 4, 3, (const char *[]){"x", "", ""});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 5, 3, (const char *[]){"", "", "y"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(last_row_without_newline)
{
	struct csv_reader *r = open_buf(LIT("a;b\n1;2\n3;\"4\""));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 2, (const char *[]){"3", "4"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

TEST(header_only)
{
	struct csv_reader *r = open_buf(LIT("a;b"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"a", "b"});
	CHECK_INT(next(r, &row), 0);
	CHECK_INT(next(r, &row), 0); /* the end stays the end */
	CHECK(row.fields == NULL);
	CHECK_INT(row.nfields, 0);
	csv_close(r);
}

TEST(trailing_blank_lines_ignored)
{
	size_t rows;

	CHECK_INT(read_all(LIT("a;b\n1;2\n\n\n"), &rows), 0);
	CHECK_INT(rows, 2);
	CHECK_INT(read_all(LIT("a;b\r\n1;2\r\n\r\n\r\n"), &rows), 0);
	CHECK_INT(rows, 2);
	CHECK_INT(read_all(LIT("a\n1\n\n"), &rows), 0);
	CHECK_INT(rows, 2);
}

TEST(blank_line_inside_is_a_row)
{
	size_t rows;

	/* With one column a blank line is a row holding one empty field... */
	CHECK_INT(read_all(LIT("a\n1\n\n2\n"), &rows), 0);
	CHECK_INT(rows, 4);
	/* ...with more it has the wrong field count. */
	check_row_error(LIT("a;b\n1;2\n\n3;4\n"), "t.csv:3: 1 field, header has 2");
}

/* Field lengths and stop bytes at every offset around the 16-byte scanning path. */
TEST(fields_of_every_length)
{
	char buf[512], want[64];
	struct csv_reader *r;
	struct csv_row row;

	for (size_t n = 0; n < 40; n++) {
		memset(want, 'x', n);
		want[n] = '\0';
		snprintf(buf, sizeof(buf), "a;b;c\n%s;\"%s\";%s\n%s;%s;%s", want, want, want, want,
			 want, want);
		r = open_buf(buf, strlen(buf));
		CHECK_INT(next(r, &row), 1);
		CHECK_INT(next(r, &row), 1);
		check_row(&row, 2, 3, (const char *[]){want, want, want});
		CHECK_INT(next(r, &row), 1);
		check_row(&row, 3, 3, (const char *[]){want, want, want});
		CHECK_INT(next(r, &row), 0);
		csv_close(r);
	}
}

TEST(stray_bytes_found_at_every_offset)
{
	char buf[128];

	for (size_t at = 0; at < 40; at++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, "a;b\n1;", 6);
		memset(buf + 6, 'x', 48);
		buf[6 + at + 1] = '"';
		check_row_error(buf, strlen(buf), "t.csv:2:2: stray quote in unquoted field");
		buf[6 + at + 1] = '\r';
		check_row_error(buf, strlen(buf), "t.csv:2:2: stray carriage return");
		buf[6 + at + 1] = ';';
		check_row_error(buf, strlen(buf), "t.csv:2: 3 fields, header has 2");
	}
}

TEST(multibyte_utf8_accepted)
{
	/* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF, é, €. */
	static const char text[] =
	    "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
	    "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\xC3\xA9\xE2\x82\xAC";
	struct csv_reader *r = open_buf(LIT("naam;x\n\xC3\xA9\xC3\xA9n;\xE2\x82\xAC\n" /**/
					    "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"
					    "\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\xC3\xA9"
					    "\xE2\x82\xAC;\"\xF0\x9F\x98\x80\"\n"));
	struct csv_row row;

	CHECK(r != NULL);
	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 2, (const char *[]){"\xC3\xA9\xC3\xA9n", "\xE2\x82\xAC"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 2, (const char *[]){text, "\xF0\x9F\x98\x80"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

/* Every offset relative to the 8-byte fast path, for good and bad bytes alike. */
TEST(utf8_checked_at_every_offset)
{
	char buf[64];
	size_t rows;

	for (size_t at = 0; at < 24; at++) {
		memset(buf, 'a', sizeof(buf));
		memcpy(buf + at, "\xE2\x82\xAC", 3);
		CHECK_INT(read_all(buf, sizeof(buf), &rows), 0);
		CHECK_INT(rows, 1);
		buf[at + 2] = 'x';
		check_open_error(buf, sizeof(buf), -EILSEQ, "t.csv:1:1: invalid UTF-8");
		buf[at] = '\0';
		check_open_error(buf, sizeof(buf), -EILSEQ, "t.csv:1:1: NUL byte");
		memset(buf, 'a', sizeof(buf));
		buf[at] = '\x80';
		check_open_error(buf, sizeof(buf), -EILSEQ, "t.csv:1:1: invalid UTF-8");
	}
}

TEST(error_utf8_overlong)
{
	check_open_error(LIT("a;b\n1;x\xC0\x80\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;2\n\xC1\xBF;3\n"), -EILSEQ, "t.csv:3:1: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xE0\x80\xAF\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xF0\x80\x80\xAF\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
}

TEST(error_utf8_surrogate)
{
	check_open_error(LIT("a;b\n1;x\xED\xA0\x80y\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xED\xBF\xBF\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
}

TEST(error_utf8_out_of_range)
{
	check_open_error(LIT("a;b\n1;\xF5\x80\x80\x80\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xF4\x90\x80\x80\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n\xFF;1\n"), -EILSEQ, "t.csv:2:1: invalid UTF-8");
	check_open_error(LIT("a;b\n\xFE;1\n"), -EILSEQ, "t.csv:2:1: invalid UTF-8");
}

TEST(error_utf8_truncated)
{
	check_open_error(LIT("a;b\n1;\xE2\x82"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xE2\x82\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n\xE2\x82;1\n"), -EILSEQ, "t.csv:2:1: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xF0\x9F\x98"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\xC3"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
	check_open_error(LIT("a;b\n1;x\x80y\n"), -EILSEQ, "t.csv:2:2: invalid UTF-8");
}

TEST(error_utf8_located_through_quotes)
{
	/* The line is the physical line of the byte; the column its field number. */
	check_open_error(LIT("a;b;c\n1;\"x;y\nz\";\xFF\n"), -EILSEQ, "t.csv:3:3: invalid UTF-8");
	check_open_error(LIT("a;b\n1;\"two\nlines \xE9\"\n"), -EILSEQ, "t.csv:3:2: invalid UTF-8");
	check_open_error(LIT("a;b\n\"say \"\";\"\" \xE9\";2\n"), -EILSEQ,
			 "t.csv:2:1: invalid UTF-8");
	check_open_error(LIT("\xEF\xBB\xBF\xEF\xBB"), -EILSEQ, "t.csv:1:1: invalid UTF-8");
}

TEST(error_nul_byte)
{
	check_open_error(LIT("a;b\n1;x\0y\n"), -EILSEQ, "t.csv:2:2: NUL byte");
	check_open_error(LIT("\0a;b\n"), -EILSEQ, "t.csv:1:1: NUL byte");
	check_open_error(LIT("a;b\n1;\"\0\"\n"), -EILSEQ, "t.csv:2:2: NUL byte");
	check_open_error(LIT("a;b\n1;2\0"), -EILSEQ, "t.csv:2:2: NUL byte");
}

TEST(error_unterminated_quote)
{
	/* Reported where the quote opened, not at the end of the file. */
	check_row_error(LIT("a;b\n1;2\n3;\"open\nmore\nstuff\n"), "t.csv:3:2: unterminated quote");
	check_row_error(LIT("\"a;b\n1;2\n"), "t.csv:1:1: unterminated quote");
	check_row_error(LIT("a;b\n1;\"x\"\"\n"), "t.csv:2:2: unterminated quote");
	check_row_error(LIT("a;b\n1;\""), "t.csv:2:2: unterminated quote");
}

TEST(error_stray_quote)
{
	check_row_error(LIT("a;b\n1;x\"y\n"), "t.csv:2:2: stray quote in unquoted field");
	check_row_error(LIT("a;b\n1;x\"\n"), "t.csv:2:2: stray quote in unquoted field");
	check_row_error(LIT("a;b\n \"1\";2\n"), "t.csv:2:1: stray quote in unquoted field");
	check_row_error(LIT("a;b\"\n1;2\n"), "t.csv:1:2: stray quote in unquoted field");
}

TEST(error_text_after_closing_quote)
{
	check_row_error(LIT("a;b\n1;\"x\"y\n"), "t.csv:2:2: text after closing quote");
	check_row_error(LIT("a;b\n\"x\" ;2\n"), "t.csv:2:1: text after closing quote");
	/* On the physical line of the closing quote. */
	check_row_error(LIT("a;b\n1;\"x\ny\"z\n"), "t.csv:3:2: text after closing quote");
}

TEST(error_stray_carriage_return)
{
	check_row_error(LIT("a;b\n1;x\ry\n"), "t.csv:2:2: stray carriage return");
	check_row_error(LIT("a;b\r1;2\n"), "t.csv:1:2: stray carriage return");
	check_row_error(LIT("a;b\n\"1\"\r;2\n"), "t.csv:2:1: stray carriage return");
	check_row_error(LIT("a;b\n1;2\r"), "t.csv:2:2: stray carriage return");
	check_row_error(LIT("a;b\n1;2\r\r\n"), "t.csv:2:2: stray carriage return");
}

TEST(error_field_count)
{
	check_row_error(LIT("a;b;c\n1;2;3\n1;2\n"), "t.csv:3: 2 fields, header has 3");
	check_row_error(LIT("a;b\n1;2;3;4\n"), "t.csv:2: 4 fields, header has 2");
	check_row_error(LIT("a\n1;2\n"), "t.csv:2: 2 fields, header has 1");
	/* The line is where the row starts. */
	check_row_error(LIT("a;b\n\"x\ny\";2;3\n"), "t.csv:2: 3 fields, header has 2");
	check_row_error(LIT("a;b;c;d;e;f;g;h;i;j\n1;2;3;4;5;6;7;8;9;10\n"
			    "1;2;3;4;5;6;7;8;9;10\n1;2;3;4;5;6;7;8;9;10\n1;2;3;4;5;6;7;8;9\n"),
			"t.csv:5: 9 fields, header has 10");
}

TEST(error_field_count_counts_past_header)
{
	struct csv_reader *r = open_buf(LIT("a;b\n1;2;3;4;5;6;7;8;9;\"10\";11\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), -EINVAL);
	CHECK_STR(err, "t.csv:2: 11 fields, header has 2");
	CHECK(row.fields == NULL);
	csv_close(r);
}

TEST(error_empty_file)
{
	check_open_error("", 0, -EINVAL, "t.csv: empty file");
	check_open_error(LIT("\n"), -EINVAL, "t.csv: empty file");
	check_open_error(LIT("\r\n\n\r\n"), -EINVAL, "t.csv: empty file");
}

TEST(error_bom_only)
{
	check_open_error(LIT("\xEF\xBB\xBF"), -EINVAL, "t.csv: empty file");
	check_open_error(LIT("\xEF\xBB\xBF\r\n"), -EINVAL, "t.csv: empty file");
}

TEST(error_is_sticky)
{
	struct csv_reader *r = open_buf(LIT("a;b\n1;x\"y\n3;4\n"));
	struct csv_row row;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), -EINVAL);
	CHECK_STR(err, "t.csv:2:2: stray quote in unquoted field");
	CHECK_INT(next(r, &row), -EINVAL);
	CHECK_STR(err, "t.csv: reader stopped at an earlier error");
	CHECK_INT(row.nfields, 0);
	csv_close(r);
}

TEST(messages_never_hold_field_contents)
{
	static const char *bad[] = {"a;b\nGeheim;x\"Geheim\n",	   "a;b\nGeheim;\"Geheim\"Geheim\n",
				    "a;b\nGeheim;Geheim;Geheim\n", "a;b\nGeheim;\"Geheim\n",
				    "a;b\nGeheim;Geheim\xE9\n",	   "a;b\nGeheim\r;Geheim\n"};
	size_t rows;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(read_all(bad[i], strlen(bad[i]), &rows) < 0);
		CHECK(err[0] != '\0');
		CHECK(strstr(err, "Geheim") == NULL);
	}
}

TEST(field_pointers_outlive_the_row)
{
	struct csv_reader *r = open_buf(LIT("a;b\n\"x\"\"1\";y1\nx2;\"y\n2\"\n"));
	struct csv_row row;
	const char *keep;

	CHECK_INT(next(r, &row), 1);
	CHECK_INT(next(r, &row), 1);
	keep = row.fields[0].data;
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 3, 2, (const char *[]){"x2", "y\n2"});
	CHECK_STR(keep, "x\"1");
	csv_close(r);
}

TEST(open_mem_copies_the_input)
{
	char buf[] = "a;b\n1;2\n";
	struct csv_reader *r = open_buf(buf, strlen(buf));
	struct csv_row row;

	memset(buf, 'z', strlen(buf));
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 2, (const char *[]){"a", "b"});
	csv_close(r);
}

TEST(null_error_buffer_and_close)
{
	struct csv_reader *r = NULL;
	struct csv_row row;

	CHECK_INT(csv_open_mem(&r, "t.csv", LIT("a;b\n1"), NULL, 0), 0);
	CHECK_INT(csv_next(r, &row, NULL, 0), 1);
	CHECK_INT(csv_next(r, &row, NULL, 0), -EINVAL);
	csv_close(r);
	csv_close(NULL);
}

TEST(open_mem_too_large)
{
	struct csv_reader *r = (struct csv_reader *)1;

	/* The length is checked before a byte is read. */
	CHECK_INT(csv_open_mem(&r, "t.csv", "x", ((size_t)1 << 31) + 1, err, sizeof(err)), -EFBIG);
	CHECK(r == NULL);
	CHECK_STR(err, "t.csv: file too large (2147483649 bytes, limit 2147483648)");
}

TEST(open_missing_file)
{
	struct csv_reader *r = (struct csv_reader *)1;
	const char *path = "tests/fixtures/csv/does-not-exist.csv";

	CHECK_INT(csv_open(&r, path, err, sizeof(err)), -ENOENT);
	CHECK(r == NULL);
	CHECK_STR(err, "tests/fixtures/csv/does-not-exist.csv: No such file or directory");
}

/* What Excel writes as "CSV UTF-8": BOM, ';', CRLF, a quoted CRLF. */
TEST(fixture_excel_export)
{
	struct csv_reader *r = NULL;
	struct csv_row row;

	CHECK_INT(csv_open(&r, "tests/fixtures/csv/excel_semicolon_bom_crlf.csv", err, sizeof(err)),
		  0);
	if (!r)
		return;
	CHECK_INT(csv_separator(r), ';');
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 1, 4, (const char *[]){"voornaam", "achternaam", "adres", "taal"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 2, 4,
		  (const char *[]){"Anna", "Voorbeeld", "Teststraat 1; bus 2\r\n2800 Mechelen",
				   "Nederlands"});
	CHECK_INT(next(r, &row), 1);
	check_row(&row, 4, 4,
		  (const char *[]){"Jos\xC3\xA9", "De \"Test\" Persoon", "",
				   "Fran\xC3\xA7"
				   "ais"});
	CHECK_INT(next(r, &row), 0);
	csv_close(r);
}

/* What Excel writes as plain "CSV": Windows-1252, refused rather than mangled. */
TEST(fixture_windows1252_refused)
{
	struct csv_reader *r = (struct csv_reader *)1;

	CHECK_INT(csv_open(&r, "tests/fixtures/csv/windows1252.csv", err, sizeof(err)), -EILSEQ);
	CHECK(r == NULL);
	CHECK_STR(err, "tests/fixtures/csv/windows1252.csv:3:1: invalid UTF-8");
}

int main(void)
{
	RUN(semicolon_detected);
	RUN(comma_detected);
	RUN(separator_tie_and_none_give_semicolon);
	RUN(separator_counts_only_first_record_outside_quotes);
	RUN(bom_stripped);
	RUN(bom_before_quoted_header);
	RUN(crlf_line_ends);
	RUN(quoted_separators);
	RUN(doubled_quotes);
	RUN(quoted_newlines_and_line_numbers);
	RUN(lone_cr_inside_quotes_is_data);
	RUN(empty_fields);
	RUN(last_row_without_newline);
	RUN(header_only);
	RUN(trailing_blank_lines_ignored);
	RUN(blank_line_inside_is_a_row);
	RUN(fields_of_every_length);
	RUN(stray_bytes_found_at_every_offset);
	RUN(multibyte_utf8_accepted);
	RUN(utf8_checked_at_every_offset);
	RUN(error_utf8_overlong);
	RUN(error_utf8_surrogate);
	RUN(error_utf8_out_of_range);
	RUN(error_utf8_truncated);
	RUN(error_utf8_located_through_quotes);
	RUN(error_nul_byte);
	RUN(error_unterminated_quote);
	RUN(error_stray_quote);
	RUN(error_text_after_closing_quote);
	RUN(error_stray_carriage_return);
	RUN(error_field_count);
	RUN(error_field_count_counts_past_header);
	RUN(error_empty_file);
	RUN(error_bom_only);
	RUN(error_is_sticky);
	RUN(messages_never_hold_field_contents);
	RUN(field_pointers_outlive_the_row);
	RUN(open_mem_copies_the_input);
	RUN(null_error_buffer_and_close);
	RUN(open_mem_too_large);
	RUN(open_missing_file);
	RUN(fixture_excel_export);
	RUN(fixture_windows1252_refused);
	UNIT_EXIT();
}
