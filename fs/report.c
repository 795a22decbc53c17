/* report.c — verify, report and anomalies over audit log files (see report.h).
 *
 * Lines are parsed with a small flat-JSON reader that accepts exactly what the
 * writer emits (strings, integers, null, arrays of strings) and rejects anything
 * else as a bad line; it never trusts a length it has not checked. */
#include "report.h"
#include "audit.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX    ((size_t)1 << 34)
#define DEADLINE_MS (48LL * 3600 * 1000)

/* ------------------------------------------------------------ one line */

struct rline {
	unsigned long long seq;
	char ts[32];
	char event[32];
	char result[16];
	char reason[96];
	long long uid; /* -1: none */
	char user[64];
	char profile[72];
	char record[72];
	char fields[512]; /* comma-joined */
	unsigned long long revoke_from, revoke_to;
	unsigned long long count; /* a "denials" line: the requests it stands for */
	char since[32];		  /* and when the first of them was */
	int64_t ms;		  /* ts as milliseconds since the epoch */
	int64_t at_ms;		  /* since (a "denials" line) or ts */
};

/* A JSON string at *p (after the opening quote) into out; advances *p. */
static int j_string(const char **p, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	while (*p < end && **p != '"') {
		char c = **p;
		if (c == '\\') {
			if (++*p >= end)
				return -1;
			c = **p;
			if (c == 'u') {
				unsigned v = 0;
				if (end - *p < 5)
					return -1;
				for (int k = 1; k <= 4; k++) {
					char h = (*p)[k];
					int d = h >= '0' && h <= '9'   ? h - '0'
						: h >= 'a' && h <= 'f' ? h - 'a' + 10
						: h >= 'A' && h <= 'F' ? h - 'A' + 10
								       : -1;
					if (d < 0)
						return -1;
					v = v * 16 + (unsigned)d;
				}
				c = v < 0x80 ? (char)v : '?';
				*p += 4;
			} else if (c != '"' && c != '\\' && c != '/') {
				return -1;
			}
		}
		if (n + 1 < cap)
			out[n++] = c;
		(*p)++;
	}
	out[n] = 0;
	if (*p >= end)
		return -1;
	(*p)++;
	return 0;
}

/* A value: string into out, integer into *num, null, or an array of strings
 * (comma-joined into out). */
static int j_value(const char **p, const char *end, char *out, size_t cap, long long *num)
{
	char item[128];
	size_t n = 0;

	out[0] = 0;
	*num = -1;
	if (*p < end && **p == '"')
		return (*p)++, j_string(p, end, out, cap);
	if (end - *p >= 4 && memcmp(*p, "null", 4) == 0)
		return *p += 4, 0;
	if (*p < end && **p == '[') {
		for ((*p)++; *p < end && **p != ']';) {
			if (**p == ',' && n)
				(*p)++;
			if (*p >= end || **p != '"')
				return -1;
			(*p)++;
			if (j_string(p, end, item, sizeof(item)) < 0)
				return -1;
			n += (size_t)snprintf(out + n, cap > n ? cap - n : 0, "%s%s", n ? "," : "",
					      item);
		}
		return *p < end ? ((*p)++, 0) : -1;
	}
	char *e;
	*num = strtoll(*p, &e, 10);
	if (e == *p || e > end)
		return -1;
	*p = e;
	return 0;
}

static int64_t r_ts_ms(const char *ts)
{
	int y, mo, d, h, mi, s, ms;

	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
		return -1;
	return ((int64_t)clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000 +
	       ms;
}

/* Store a parsed key/value into l. */
static void r_assign(struct rline *l, const char *key, const char *sv, long long nv)
{
	struct {
		const char *k;
		char *dst;
		size_t cap;
	} s[] = {{"ts", l->ts, sizeof(l->ts)},
		 {"event", l->event, sizeof(l->event)},
		 {"result", l->result, sizeof(l->result)},
		 {"reason", l->reason, sizeof(l->reason)},
		 {"user", l->user, sizeof(l->user)},
		 {"profile", l->profile, sizeof(l->profile)},
		 {"record", l->record, sizeof(l->record)},
		 {"fields", l->fields, sizeof(l->fields)},
		 {"since", l->since, sizeof(l->since)}};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (strcmp(key, s[i].k) == 0)
			snprintf(s[i].dst, s[i].cap, "%s", sv);
	if (strcmp(key, "uid") == 0)
		l->uid = nv;
	else if (strcmp(key, "revoke_from") == 0)
		l->revoke_from = (unsigned long long)nv;
	else if (strcmp(key, "revoke_to") == 0)
		l->revoke_to = (unsigned long long)nv;
	else if (strcmp(key, "count") == 0 && nv > 0)
		l->count = (unsigned long long)nv;
}

/* Parse one line (without its newline) into l. */
static int r_parse(const char *line, size_t n, struct rline *l)
{
	const char *p = line, *end = line + n;
	char key[32], sv[512];
	long long nv;

	memset(l, 0, sizeof(*l));
	l->uid = -1;
	uint64_t seq;

	if (!audit_line_seq(line, n, &seq) || n < 2 || line[n - 1] != '}')
		return -1;
	l->seq = seq;
	p++;
	end--;
	while (p < end) {
		if (*p != '"' || (p++, j_string(&p, end, key, sizeof(key))) < 0 || p >= end ||
		    *p++ != ':' || j_value(&p, end, sv, sizeof(sv), &nv) < 0)
			return -1;
		r_assign(l, key, sv, nv);
		if (p < end && *p++ != ',')
			return -1;
	}
	l->ms = r_ts_ms(l->ts);
	l->at_ms = l->count && l->since[0] ? r_ts_ms(l->since) : l->ms;
	return l->ms < 0 || l->at_ms < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ walking files */

/* Calls fn for each line of each file in order; stops at fn's first non-zero. */
typedef int (*r_line_fn)(void *ctx, const char *file, size_t lineno, const char *line, size_t n,
			 bool torn);

static int r_walk(const char *const *files, size_t nf, r_line_fn fn, void *ctx, char *err,
		  size_t errlen)
{
	int rc = 0;

	for (size_t f = 0; rc == 0 && f < nf; f++) {
		uint8_t *buf = NULL;
		size_t len = 0, off = 0, lineno = 0;
		rc = util_read_file(files[f], &buf, &len, FILE_MAX, err, errlen);
		while (rc == 0 && off < len) {
			const char *s = (const char *)buf + off;
			const char *nl = memchr(s, '\n', len - off);
			size_t n = nl ? (size_t)(nl - s) : len - off;
			rc = fn(ctx, files[f], ++lineno, s, n, nl == NULL);
			off += n + 1;
		}
		free(buf);
	}
	return rc;
}

/* ------------------------------------------------------------ verify */

struct r_verify {
	uint8_t *key; /* sodium_malloc */
	uint8_t prev[AUDIT_HASH_BYTES];
	uint64_t seq; /* expected next */
	char *err;
	size_t errlen;
	/* --state: the daemon's (seq, prev, key) after its last flush; the chain must
	 * pass through exactly that point */
	uint8_t *state; /* sodium_malloc, 128 bytes, or NULL */
	bool state_met, state_differs;
};

/* At the state's point of the chain, does the chain agree with it? */
static void r_state_meet(struct r_verify *v)
{
	if (!v->state || v->seq != util_load_le64(v->state + 8))
		return;
	v->state_met = true;
	v->state_differs = sodium_memcmp(v->state + 16, v->prev, 32) != 0 ||
			   sodium_memcmp(v->state + 48, v->key, 32) != 0;
}

static int r_verify_fail(struct r_verify *v, const char *file, size_t lineno, const char *why)
{
	util_errf(v->err, v->errlen, "%s:%zu: %s", file, lineno, why);
	return -EBADMSG;
}

static int r_verify_line(void *ctx, const char *file, size_t lineno, const char *line, size_t n,
			 bool torn)
{
	struct r_verify *v = ctx;
	uint8_t mac[AUDIT_HASH_BYTES], got[AUDIT_HASH_BYTES];
	uint64_t seq;
	char prevhex[65];
	const char *tail = line + n - AUDIT_TAIL_LEN;

	if (torn)
		return r_verify_fail(v, file, lineno, "torn last line (no newline): truncated");
	if (n < AUDIT_TAIL_LEN + 12 || !audit_line_seq(line, n, &seq))
		return r_verify_fail(v, file, lineno, "not an audit line");
	if (!audit_tail_ok(line, n))
		return r_verify_fail(v, file, lineno, "MAC does not verify: the line was altered");
	if (seq != v->seq) {
		char why[160];
		snprintf(why, sizeof(why),
			 "line has seq %llu, expected %llu (a line was removed, "
			 "inserted or reordered)",
			 (unsigned long long)seq, (unsigned long long)v->seq);
		return r_verify_fail(v, file, lineno, why);
	}
	sodium_bin2hex(prevhex, sizeof(prevhex), v->prev, sizeof(v->prev));
	if (memcmp(tail + sizeof(AUDIT_TAIL_PREV) - 1, prevhex, 64) != 0)
		return r_verify_fail(v, file, lineno,
				     "hash chain broken: the line before was changed or removed");
	audit_line_mac(mac, v->key, line, n - 64 - 2 - (sizeof(AUDIT_TAIL_MAC) - 1));
	if (sodium_hex2bin(got, sizeof(got), line + n - 66, 64, NULL, NULL, NULL) != 0 ||
	    sodium_memcmp(mac, got, sizeof(mac)) != 0)
		return r_verify_fail(v, file, lineno, "MAC does not verify: the line was altered");
	crypto_generichash(v->prev, sizeof(v->prev), (const uint8_t *)line, n, NULL, 0);
	audit_key_ratchet(v->key);
	v->seq++;
	r_state_meet(v);
	return 0;
}

/* The initial key: 64 hex digits on the first line of key_path. */
static int r_key_load(uint8_t *key, const char *path, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0, klen = 0;
	int rc = util_read_file(path, &buf, &len, 4096, err, errlen);

	if (rc < 0)
		return rc;
	if (len < 64 || sodium_hex2bin(key, AUDIT_KEY_BYTES, (char *)buf, 64, NULL, &klen, NULL) ||
	    klen != AUDIT_KEY_BYTES) {
		util_errf(err, errlen, "%s: not an audit verification key", path);
		rc = -EINVAL;
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* Load the daemon's state for the walk. */
static int r_state_load(struct r_verify *v, const char *path, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = util_read_file(path, &buf, &len, 4096, err, errlen);

	if (rc < 0)
		return rc;
	if (len < 128 || memcmp(buf, "PFSAUDS1", 8) != 0 || !(v->state = sodium_malloc(128))) {
		util_errf(err, errlen, "%s: not an audit state file", path);
		rc = -EINVAL;
	} else {
		memcpy(v->state, buf, 128);
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* After the walk: the chain must have passed through the state's point. The
 * state may lag the log by the lines of one flush (a killed daemon), never lead
 * it: a log that ends before the state's point had lines cut from its end. */
static int r_state_check(const struct r_verify *v, const char *path, char *err, size_t errlen)
{
	uint64_t want = util_load_le64(v->state + 8);

	if (!v->state_met) {
		util_errf(err, errlen,
			  "%s: the log ends at line %llu, but the daemon's state says line "
			  "%llu was written: lines were cut from the end",
			  path, (unsigned long long)v->seq - 1, (unsigned long long)want - 1);
		return -EBADMSG;
	}
	if (v->state_differs) {
		util_errf(err, errlen, "%s: line %llu is not the one the daemon wrote", path,
			  (unsigned long long)want - 1);
		return -EBADMSG;
	}
	return 0;
}

int report_verify(const char *const *files, size_t n, const char *key_path, const char *state_path,
		  uint64_t *lines, char *err, size_t errlen)
{
	struct r_verify v = {
	    .key = sodium_malloc(AUDIT_KEY_BYTES), .seq = 1, .err = err, .errlen = errlen};
	int rc = v.key ? r_key_load(v.key, key_path, err, errlen) : -ENOMEM;

	if (rc == 0 && state_path) {
		rc = r_state_load(&v, state_path, err, errlen);
		r_state_meet(&v); /* a state at the very start (no line yet) */
	}
	if (rc == 0)
		rc = r_walk(files, n, r_verify_line, &v, err, errlen);
	if (rc == 0 && state_path)
		rc = r_state_check(&v, state_path, err, errlen);
	*lines = v.seq - 1;
	sodium_free(v.key);
	sodium_free(v.state);
	return rc;
}

/* ------------------------------------------------------------ parsed walk */

/* Collect every parsable line of the files (for report and anomalies). Lines
 * that do not parse are counted in *bad. */
struct r_all {
	struct rline *l;
	size_t n, cap, bad;
	size_t rev[64], nrev; /* lines that revoke a range */
	const char *first_bad_file;
	size_t first_bad_line;
};

static int r_collect_line(void *ctx, const char *file, size_t lineno, const char *line, size_t n,
			  bool torn)
{
	struct r_all *a = ctx;

	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 1024;
		struct rline *l = realloc(a->l, nc * sizeof(*l));
		if (!l)
			return -ENOMEM;
		a->l = l;
		a->cap = nc;
	}
	if (torn || r_parse(line, n, &a->l[a->n]) < 0) {
		if (!a->bad++) {
			a->first_bad_file = file;
			a->first_bad_line = lineno;
		}
		return 0;
	}
	if (a->l[a->n].revoke_from && a->nrev < 64)
		a->rev[a->nrev++] = a->n;
	a->n++;
	return 0;
}

static int r_collect(const char *const *files, size_t nf, struct r_all *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	return r_walk(files, nf, r_collect_line, a, err, errlen);
}

/* Was line seq refused after a failed flush (a later line revokes it)? Revoking
 * lines are rare: they are collected once into a->rev. */
static bool r_revoked(const struct r_all *a, unsigned long long seq)
{
	for (size_t i = 0; i < a->nrev; i++)
		if (seq >= a->l[a->rev[i]].revoke_from && seq <= a->l[a->rev[i]].revoke_to)
			return true;
	return false;
}

/* ------------------------------------------------------------ report */

static bool r_match(const struct rline *l, const struct report_query *q)
{
	if (l->uid < 0)
		return false;
	if (q->record && strcmp(l->record, q->record) != 0)
		return false;
	if (q->user && strcmp(l->user, q->user) != 0)
		return false;
	if (q->since && strncmp(l->ts, q->since, 10) < 0)
		return false;
	return !q->until || strncmp(l->ts, q->until, 10) <= 0;
}

static void r_print_csv_field(FILE *out, const char *s, bool last)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputs(last ? "\"\n" : "\",", out);
}

static void r_print_json_str(FILE *out, const char *k, const char *s, bool comma)
{
	fprintf(out, "%s\"%s\":\"", comma ? "," : "", k);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void r_print(FILE *out, const struct rline *l, const char *result, enum report_format f)
{
	char uid[24];

	snprintf(uid, sizeof(uid), "%lld", l->uid);
	if (f == REPORT_TEXT) {
		fprintf(out, "%-24s  %-16s %-6s %-18s %-6s %-26s %-11s %s\n", l->ts, l->user, uid,
			l->profile[0] ? l->profile : "-", l->event, result,
			l->record[0] ? l->record : "-", l->fields[0] ? l->fields : "-");
	} else if (f == REPORT_CSV) {
		const char *v[] = {l->ts,    l->user, uid,	 l->profile,
				   l->event, result,  l->record, l->fields};
		for (int i = 0; i < 8; i++)
			r_print_csv_field(out, v[i], i == 7);
	} else {
		fprintf(out, "{\"seq\":%llu", l->seq);
		r_print_json_str(out, "ts", l->ts, true);
		r_print_json_str(out, "user", l->user, true);
		fprintf(out, ",\"uid\":%s", uid);
		r_print_json_str(out, "profile", l->profile, true);
		r_print_json_str(out, "event", l->event, true);
		r_print_json_str(out, "result", result, true);
		r_print_json_str(out, "record", l->record, true);
		r_print_json_str(out, "fields", l->fields, true);
		fputs("}\n", out);
	}
}

int report_query(const char *const *files, size_t n, const struct report_query *q, FILE *out,
		 size_t *matched, char *err, size_t errlen)
{
	struct r_all a;
	char result[192];
	int rc = r_collect(files, n, &a, err, errlen);

	*matched = 0;
	if (rc == 0 && q->format == REPORT_TEXT)
		fprintf(out, "%-24s  %-16s %-6s %-18s %-6s %-26s %-11s %s\n", "time (UTC)", "user",
			"uid", "profile", "event", "result", "record", "fields");
	if (rc == 0 && q->format == REPORT_CSV)
		fputs("time,user,uid,profile,event,result,record,fields\n", out);
	for (size_t i = 0; rc == 0 && i < a.n; i++) {
		const struct rline *l = &a.l[i];
		if (!r_match(l, q))
			continue;
		if (r_revoked(&a, l->seq))
			snprintf(result, sizeof(result), "denied (flush failed)");
		else if (l->count)
			snprintf(result, sizeof(result), "%s (%s; %llu requests since %s)",
				 l->result, l->reason, l->count, l->since);
		else if (l->reason[0])
			snprintf(result, sizeof(result), "%s (%s)", l->result, l->reason);
		else
			snprintf(result, sizeof(result), "%s", l->result);
		r_print(out, l, result, q->format);
		++*matched;
	}
	free(a.l);
	return rc;
}

/* ------------------------------------------------------------ anomalies */

static void r_anomaly(FILE *out, size_t *found, int64_t at_ms, const char *kind, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));

static void r_anomaly(FILE *out, size_t *found, int64_t at_ms, const char *kind, const char *fmt,
		      ...)
{
	char at[21], due[21], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	clock_format_utc(at_ms / 1000, at);
	clock_format_utc((at_ms + DEADLINE_MS) / 1000, due);
	fprintf(out, "%s  %-12s %s; report to the issuer before %s\n", at, kind, what, due);
	++*found;
}

static bool r_is_open(const struct rline *l)
{
	return strcmp(l->event, "open") == 0 && strcmp(l->result, "allowed") == 0 && l->record[0];
}

static int r_by_user_time(const void *x, const void *y, void *arg)
{
	const struct r_all *all = arg;
	const struct rline *a = &all->l[*(const size_t *)x];
	const struct rline *b = &all->l[*(const size_t *)y];

	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	if (a->at_ms != b->at_ms)
		return a->at_ms < b->at_ms ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* How many requests a line stands for: a "denials" line its count, others 1. */
static unsigned long long r_weight(const struct rline *l)
{
	return l->count ? l->count : 1;
}

/* Indices of the lines pick() selects, sorted by user, then time, then seq. */
static size_t *r_pick_sorted(const struct r_all *a, bool (*pick)(const struct rline *), size_t *n)
{
	size_t *idx = malloc((a->n ? a->n : 1) * sizeof(*idx));

	*n = 0;
	if (!idx)
		return NULL;
	for (size_t i = 0; i < a->n; i++)
		if (pick(&a->l[i]))
			idx[(*n)++] = i;
	qsort_r(idx, *n, sizeof(*idx), r_by_user_time, (void *)a);
	return idx;
}

/* Per user: a window of `span` ms holding more than `limit` selected requests
 * (a "denials" line counts as its count, at the time of its first request),
 * reported at its first line; the next report for that user comes after span. */
static int r_windows(const struct r_all *a, FILE *out, size_t *found,
		     bool (*pick)(const struct rline *), int64_t span, unsigned limit,
		     const char *kind, const char *what)
{
	size_t n, j = 0;
	size_t *idx = limit ? r_pick_sorted(a, pick, &n) : NULL;
	int64_t last = INT64_MIN;
	long long last_uid = -2;
	unsigned long long sum = 0; /* weights of idx[i..j) */

	if (!limit)
		return 0;
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct rline *l = &a->l[idx[i]];
		if (j <= i)
			j = i, sum = 0;
		while (j < n && a->l[idx[j]].uid == l->uid && a->l[idx[j]].at_ms < l->at_ms + span)
			sum += r_weight(&a->l[idx[j++]]);
		if (sum > limit && (l->uid != last_uid || l->at_ms >= last + span)) {
			r_anomaly(out, found, l->at_ms, kind, "%s (%lld): %llu %s", l->user, l->uid,
				  sum, what);
			last = l->at_ms;
			last_uid = l->uid;
		}
		sum -= r_weight(l);
	}
	free(idx);
	return 0;
}

/* A refused request (the alert line that accompanies a rate-limit refusal is
 * not a request of its own). */
static bool r_is_denial(const struct rline *l)
{
	return strcmp(l->result, "denied") == 0 && l->uid >= 0 && strcmp(l->event, "alert") != 0;
}

static bool r_is_noprofile(const struct rline *l)
{
	return strcmp(l->reason, "caller has no profile") == 0;
}

/* Users without a profile: one entry per user, at their first attempt. */
static int r_noprofile(const struct r_all *a, FILE *out, size_t *found)
{
	size_t n;
	size_t *idx = r_pick_sorted(a, r_is_noprofile, &n);

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0, j; i < n; i = j) {
		const struct rline *l = &a->l[idx[i]];
		unsigned long long k = 0;
		for (j = i; j < n && a->l[idx[j]].uid == l->uid; j++)
			k += r_weight(&a->l[idx[j]]);
		r_anomaly(out, found, l->at_ms, "no-profile",
			  "%s (%lld): %llu attempt%s by a user without a function profile", l->user,
			  l->uid, k, k == 1 ? "" : "s");
	}
	free(idx);
	return 0;
}

/* Sequence gaps, alerts, failed flushes, recoveries and unparsable lines. */
static void r_chain(const struct r_all *a, FILE *out, size_t *found)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct rline *l = &a->l[i];
		if (i && l->seq != a->l[i - 1].seq + 1)
			r_anomaly(out, found, l->ms, "gap", "audit line %llu follows line %llu",
				  l->seq, a->l[i - 1].seq);
		if (strcmp(l->event, "alert") == 0)
			r_anomaly(out, found, l->ms, "rate-limit", "%s (%lld): %s", l->user, l->uid,
				  l->reason);
		if (strcmp(l->event, "flush-failed") == 0 || strcmp(l->event, "recover") == 0)
			r_anomaly(out, found, l->ms, "log-failure",
				  "audit log flush failed; lines %llu-%llu were refused",
				  l->revoke_from, l->revoke_to);
		if (strcmp(l->event, "mend") == 0)
			r_anomaly(out, found, l->ms, "log-failure",
				  "a torn audit line was removed");
	}
	if (a->bad)
		r_anomaly(out, found, a->n ? a->l[a->n - 1].ms : 0, "corrupt",
			  "%s:%zu: %zu unreadable line(s) (run audit verify)", a->first_bad_file,
			  a->first_bad_line, a->bad);
}

int report_anomalies(const char *const *files, size_t n, const struct report_limits *lim, FILE *out,
		     size_t *found, char *err, size_t errlen)
{
	struct r_all a;
	int rc = r_collect(files, n, &a, err, errlen);

	*found = 0;
	if (rc == 0)
		rc = r_windows(&a, out, found, r_is_open, 10 * 60 * 1000, lim->bulk, "bulk-read",
			       "opens of person files within 10 minutes");
	if (rc == 0)
		rc = r_windows(&a, out, found, r_is_denial, 60 * 1000, lim->denials, "denial-burst",
			       "denied requests within 1 minute");
	if (rc == 0)
		rc = r_noprofile(&a, out, found);
	if (rc == 0)
		r_chain(&a, out, found);
	if (rc == -ENOMEM)
		util_errf(err, errlen, "out of memory");
	free(a.l);
	return rc;
}
