/* test_audit.c — the audit log's JSON string writer (Art. 6: every line must
 * parse): whatever bytes a caller controls (process name, file name), the
 * string written is valid UTF-8 JSON. Every single byte 0x01..0xff, every
 * well-formed sequence boundary, overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences. */
#include "unit.h"

#include "audit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A strict UTF-8 check written independently of the writer (decode, then
 * reject overlong, surrogate and out-of-range code points). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n)
			return false;
		cp = c & (0x7f >> len);
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Valid UTF-8, no raw control byte, and a JSON string literal: quotes only at
 * the ends, every backslash starts \\, \" or \u followed by 4 hex digits. */
static bool json_ok(const char *j, ssize_t n)
{
	if (n < 2 || j[0] != '"' || j[n - 1] != '"' ||
	    !utf8_ok((const unsigned char *)j, (size_t)n))
		return false;
	for (ssize_t i = 1; i < n - 1; i++) {
		unsigned char c = (unsigned char)j[i];
		if (c < 0x20 || c == 0x7f || c == '"')
			return false;
		if (c != '\\')
			continue;
		if (j[i + 1] == '"' || j[i + 1] == '\\') {
			i++;
			continue;
		}
		if (j[i + 1] != 'u' || i + 5 >= n - 1 + 1)
			return false;
		for (int k = 2; k < 6; k++)
			if (!strchr("0123456789abcdef", j[i + k]))
				return false;
		i += 5;
	}
	return true;
}

static const char *js(const char *s)
{
	static char out[512];
	ssize_t n = audit_json_string(out, sizeof(out), s);

	if (n < 0 || !json_ok(out, n))
		printf("  helper: not a valid JSON string: %s\n", out);
	return out;
}

TEST(every_single_byte)
{
	for (unsigned v = 1; v < 256; v++) {
		char in[4] = {'a', (char)v, 'b', 0}, out[64], want[64];
		ssize_t n = audit_json_string(out, sizeof(out), in);
		CHECK(n > 0 && json_ok(out, n));
		if (v == '"' || v == '\\')
			snprintf(want, sizeof(want), "\"a\\%cb\"", (char)v);
		else if (v < 0x20 || v >= 0x7f)
			snprintf(want, sizeof(want), "\"a\\u%04xb\"", v);
		else
			snprintf(want, sizeof(want), "\"a%cb\"", (char)v);
		CHECK_STR(out, want);
	}
}

TEST(all_bytes_in_one_string)
{
	char in[256], out[2048];
	ssize_t n;

	for (unsigned v = 1; v < 256; v++)
		in[v - 1] = (char)v;
	in[255] = 0;
	n = audit_json_string(out, sizeof(out), in);
	CHECK(n > 0 && json_ok(out, n));
}

TEST(well_formed_kept)
{
	CHECK_STR(js("\xc2\x80"), "\"\xc2\x80\"");		   /* U+0080 */
	CHECK_STR(js("\xdf\xbf"), "\"\xdf\xbf\"");		   /* U+07FF */
	CHECK_STR(js("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"");	   /* U+0800 */
	CHECK_STR(js("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");	   /* U+D7FF */
	CHECK_STR(js("\xee\x80\x80"), "\"\xee\x80\x80\"");	   /* U+E000 */
	CHECK_STR(js("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");	   /* U+FFFF */
	CHECK_STR(js("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\""); /* U+10000 */
	CHECK_STR(js("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	CHECK_STR(js("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(overlong_refused)
{
	CHECK_STR(js("\xc0\xaf"), "\"\\u00c0\\u00af\"");
	CHECK_STR(js("\xc1\xbf"), "\"\\u00c1\\u00bf\"");
	CHECK_STR(js("\xe0\x80\xaf"), "\"\\u00e0\\u0080\\u00af\"");
	CHECK_STR(js("\xe0\x9f\xbf"), "\"\\u00e0\\u009f\\u00bf\"");
	CHECK_STR(js("\xf0\x80\x80\xaf"), "\"\\u00f0\\u0080\\u0080\\u00af\"");
	CHECK_STR(js("\xf0\x8f\xbf\xbf"), "\"\\u00f0\\u008f\\u00bf\\u00bf\"");
}

TEST(surrogates_refused)
{
	CHECK_STR(js("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\""); /* U+D800 */
	CHECK_STR(js("\xed\xbf\xbf"), "\"\\u00ed\\u00bf\\u00bf\""); /* U+DFFF */
	CHECK_STR(js("\xed\xa0\xbd\xed\xb8\x80"),		    /* CESU-8 pair */
		  "\"\\u00ed\\u00a0\\u00bd\\u00ed\\u00b8\\u0080\"");
}

TEST(above_max_refused)
{
	CHECK_STR(js("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");
	CHECK_STR(js("\xf5\x80\x80\x80"), "\"\\u00f5\\u0080\\u0080\\u0080\"");
	CHECK_STR(js("\xf8\x88\x80\x80\x80"), "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"");
}

TEST(truncated_refused)
{
	CHECK_STR(js("\xc3"), "\"\\u00c3\"");
	CHECK_STR(js("\xe2\x82"), "\"\\u00e2\\u0082\"");
	CHECK_STR(js("\xf0\x9f\x98"), "\"\\u00f0\\u009f\\u0098\"");
	CHECK_STR(js("\xe2\x82x"), "\"\\u00e2\\u0082x\"");
	CHECK_STR(js("\xf0\x9f\x98\xc3\xa9"), "\"\\u00f0\\u009f\\u0098\xc3\xa9\"");
}

TEST(null_and_overflow)
{
	char out[8];

	{
		char n4[8];
		CHECK_INT(audit_json_string(n4, sizeof(n4), NULL), 4);
		CHECK_STR(n4, "null");
	}
	CHECK_INT(audit_json_string(out, sizeof(out), "0123456789"), -E2BIG);
}

int main(void)
{
	RUN(every_single_byte);
	RUN(all_bytes_in_one_string);
	RUN(well_formed_kept);
	RUN(overlong_refused);
	RUN(surrogates_refused);
	RUN(above_max_refused);
	RUN(truncated_refused);
	RUN(null_and_overflow);
	UNIT_EXIT();
}
