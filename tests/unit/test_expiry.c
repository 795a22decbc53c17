/* test_expiry.c — visibility instants (Art. 2, 5, 12): the protocol window in
 * Brussels civil dates, retention deadlines (29 Feb + 5y = 28 Feb, a deadline on
 * a daylight-saving day), the protocol end capping a later deadline, purged
 * records, the scan used for counts and the next deadline, what ended between
 * two instants (the keeper), and termination notices. */
#include "unit.h"

#include "clock.h"
#include "dataset.h"
#include "expiry.h"
#include "keys.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pfs-unit-exp.XXXXXX";
static char path_ds[512], path_purged[512];
static struct keys_secret iss, rcp;
static struct keys_public iss_pub, rcp_pub;

/* id, shared_on; the window is 2024-01-01..2030-12-31, retention 5y. */
static const char *ids[] = {"A-leap", "B-march", "C-late", "D-jan", "E-dst"};
static const char *shared[] = {"2024-02-29", "2024-03-01", "2026-06-15", "2024-01-01",
			       "2025-03-31"};

static int32_t day_of(const char *s)
{
	int32_t d = 0;

	if (clock_parse_date(s, &d) != 0)
		printf("  helper: cannot parse %s\n", s);
	return d;
}

/* A UTC instant written "YYYY-MM-DDTHH:MM:SSZ". */
static int64_t utc(const char *s)
{
	int y, mo, d, h, mi, se;

	if (sscanf(s, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &se) != 6)
		printf("  helper: bad instant %s\n", s);
	return (int64_t)clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

static int seal(void)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	const char *vals[1] = {"x"};
	size_t lens[1] = {1}, d1, d2;
	char err[512];
	int rc;

	memset(&t, 0, sizeof(t));
	strcpy(t.protocol_id, "TEST-EXPIRY");
	strcpy(t.issuer, "Agentschap");
	strcpy(t.recipient, "stad");
	strcpy(t.timezone, "Europe/Brussels");
	t.serial = 1;
	t.issued_at = utc("2024-01-01T12:00:00Z");
	t.start_day = day_of("2024-01-01");
	t.end_day = day_of("2030-12-31");
	t.retention_months = 60;
	t.retention_unit = 'y';
	t.nfields = 1;
	strcpy(t.fields[0], "first_name");
	rc = dataset_writer_new(&w, &t, &rcp_pub, path_ds, err, sizeof(err));
	for (size_t i = 0; rc == 0 && i < sizeof(ids) / sizeof(ids[0]); i++)
		rc = dataset_writer_add(w, ids[i], strlen(ids[i]), day_of(shared[i]), vals, lens,
					err, sizeof(err));
	if (rc == 0)
		rc = dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err));
	if (rc)
		printf("  seal: %s\n", err);
	dataset_writer_free(w);
	return rc;
}

static void setup(void)
{
	char err[512], p[600];

	if (!mkdtemp(dir))
		abort();
	snprintf(path_ds, sizeof(path_ds), "%s/d.pfs", dir);
	snprintf(path_purged, sizeof(path_purged), "%s/purged.pfs", dir);
	snprintf(p, sizeof(p), "%s/iss", dir);
	if (keys_generate(KEYS_ISSUER, p, NULL, false, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/rcp", dir);
	if (keys_generate(KEYS_RECIPIENT, p, NULL, false, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/iss.key", dir);
	if (keys_secret_load(&iss, p, KEYS_ISSUER, NULL, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/iss.pub", dir);
	if (keys_public_load(&iss_pub, p, KEYS_ISSUER, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/rcp.pub", dir);
	if (keys_public_load(&rcp_pub, p, KEYS_RECIPIENT, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/rcp.key", dir);
	if (keys_secret_load(&rcp, p, KEYS_RECIPIENT, NULL, err, sizeof(err)))
		abort();
	if (seal())
		abort();
}

static struct dataset *open_ds(const char *path)
{
	struct dataset *ds = NULL;
	char err[512];

	/* unlocked: ids are found through the index dataset_unlock builds */
	if (dataset_open(&ds, path, &iss_pub, err, sizeof(err)) != 0 ||
	    dataset_unlock(ds, &rcp, err, sizeof(err)) != 0)
		printf("  open %s: %s\n", path, err);
	return ds;
}

static size_t idx(const struct dataset *ds, const char *id)
{
	long i = dataset_find(ds, id, strlen(id));

	if (i < 0) {
		printf("  helper: %s not found\n", id);
		return 0;
	}
	return (size_t)i;
}

TEST(window_instants)
{
	struct dataset *ds = open_ds(path_ds);
	struct expiry *e = NULL;
	char err[256];

	if (!ds)
		return;
	CHECK_INT(expiry_new(&e, ds, err, sizeof(err)), 0);
	if (e) {
		CHECK_INT(expiry_window_start(e), utc("2023-12-31T23:00:00Z"));
		CHECK_INT(expiry_window_end(e), utc("2030-12-31T23:00:00Z"));
		CHECK_INT(expiry_termination(e), INT64_MAX);
		/* nothing before the start, everything at it */
		int64_t next = 0;
		CHECK_INT(expiry_scan(e, utc("2023-12-31T22:59:59Z"), &next), 0);
		CHECK_INT(next, INT64_MAX);
		CHECK(!expiry_visible(e, idx(ds, "D-jan"), utc("2023-12-31T22:59:59Z")));
		CHECK(expiry_visible(e, idx(ds, "D-jan"), utc("2023-12-31T23:00:00Z")));
		CHECK_INT(expiry_scan(e, utc("2023-12-31T23:00:00Z"), &next), 5);
		CHECK_INT(next, utc("2028-12-31T23:00:00Z")); /* D-jan: 2029-01-01 Brussels */
		/* a record index out of range is never visible */
		CHECK(!expiry_visible(e, 5, utc("2025-01-01T00:00:00Z")));
	}
	expiry_free(e);
	dataset_close(ds);
}

TEST(deadlines_and_reasons)
{
	struct dataset *ds = open_ds(path_ds);
	struct expiry *e = NULL;
	char err[256];

	if (!ds)
		return;
	CHECK_INT(expiry_new(&e, ds, err, sizeof(err)), 0);
	if (!e) {
		dataset_close(ds);
		return;
	}
	size_t a = idx(ds, "A-leap"), b = idx(ds, "B-march"), c = idx(ds, "C-late"),
	       dj = idx(ds, "D-jan"), dst = idx(ds, "E-dst");
	CHECK_INT(dataset_record_deadline(ds, a), day_of("2029-02-28"));
	CHECK_INT(dataset_record_deadline(ds, b), day_of("2029-03-01"));
	CHECK_INT(dataset_record_deadline(ds, dst), day_of("2030-03-31"));
	/* 29 Feb 2024 + 5y: the start of 28 Feb 2029, Brussels (CET) */
	CHECK_INT(expiry_record_end(e, a), utc("2029-02-27T23:00:00Z"));
	CHECK(expiry_visible(e, a, utc("2029-02-27T22:59:59Z")));
	CHECK(!expiry_visible(e, a, utc("2029-02-27T23:00:00Z")));
	CHECK_INT(expiry_record_end(e, b), utc("2029-02-28T23:00:00Z"));
	CHECK(expiry_visible(e, b, utc("2029-02-28T22:59:59Z")));
	CHECK(!expiry_visible(e, b, utc("2029-02-28T23:00:00Z")));
	/* 31 March 2030 is a daylight-saving day: its midnight is still CET */
	CHECK_INT(expiry_record_end(e, dst), utc("2030-03-30T23:00:00Z"));
	/* a deadline after the protocol end: the end wins */
	CHECK_INT(expiry_record_end(e, c), utc("2030-12-31T23:00:00Z"));
	CHECK_STR(expiry_record_reason(e, c), "protocol end");
	CHECK_STR(expiry_record_reason(e, a), "retention");
	CHECK_STR(expiry_record_reason(e, dj), "retention");
	CHECK(expiry_visible(e, c, utc("2030-12-31T22:59:59Z")));
	CHECK(!expiry_visible(e, c, utc("2030-12-31T23:00:00Z")));

	int64_t next = 0;
	CHECK_INT(expiry_scan(e, utc("2029-02-27T22:59:59Z"), &next), 4);
	CHECK_INT(next, utc("2029-02-27T23:00:00Z"));
	CHECK_INT(expiry_scan(e, utc("2029-02-27T23:00:00Z"), &next), 3);
	CHECK_INT(next, utc("2029-02-28T23:00:00Z"));
	CHECK_INT(expiry_scan(e, utc("2029-02-28T23:00:00Z"), &next), 2);
	CHECK_INT(next, utc("2030-03-30T23:00:00Z"));
	CHECK_INT(expiry_scan(e, utc("2030-03-30T23:00:00Z"), &next), 1);
	CHECK_INT(next, utc("2030-12-31T23:00:00Z"));
	CHECK_INT(expiry_scan(e, utc("2030-12-31T23:00:00Z"), &next), 0);
	CHECK_INT(next, INT64_MAX);
	expiry_free(e);
	dataset_close(ds);
}

struct seen {
	size_t rec[16];
	size_t n;
};

static void collect(void *arg, size_t rec)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->rec[s->n] = rec;
	s->n++;
}

TEST(ended_between)
{
	struct dataset *ds = open_ds(path_ds);
	struct expiry *e = NULL;
	struct seen s;
	char err[256];

	if (!ds)
		return;
	CHECK_INT(expiry_new(&e, ds, err, sizeof(err)), 0);
	if (!e) {
		dataset_close(ds);
		return;
	}
	/* one second across A's deadline: A only */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, utc("2029-02-27T22:59:59Z"), expiry_termination(e),
			       utc("2029-02-27T23:00:00Z"), collect, &s),
		  1);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.rec[0], idx(ds, "A-leap"));
	/* after the deadline instant: nothing more ends in the next second */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, utc("2029-02-27T23:00:00Z"), expiry_termination(e),
			       utc("2029-02-27T23:00:01Z"), collect, &s),
		  0);
	/* a jump over several deadlines: in deadline order */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, utc("2028-06-01T00:00:00Z"), expiry_termination(e),
			       utc("2029-03-01T00:00:00Z"), collect, &s),
		  3);
	CHECK_INT(s.rec[0], idx(ds, "D-jan"));
	CHECK_INT(s.rec[1], idx(ds, "A-leap"));
	CHECK_INT(s.rec[2], idx(ds, "B-march"));
	/* the protocol end: the last one */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, utc("2030-12-31T22:59:59Z"), expiry_termination(e),
			       utc("2030-12-31T23:00:00Z"), collect, &s),
		  1);
	CHECK_INT(s.rec[0], idx(ds, "C-late"));
	/* nothing is visible after the end, so nothing ends */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, utc("2031-01-01T00:00:00Z"), expiry_termination(e),
			       utc("2040-01-01T00:00:00Z"), collect, &s),
		  0);
	expiry_free(e);
	dataset_close(ds);
}

TEST(termination)
{
	struct dataset *ds = open_ds(path_ds);
	struct expiry *e = NULL;
	struct seen s;
	char err[256];
	int64_t at = 0, next = 0;

	if (!ds)
		return;
	CHECK_INT(expiry_new(&e, ds, err, sizeof(err)), 0);
	if (!e) {
		dataset_close(ds);
		return;
	}
	CHECK_INT(clock_day_start("Europe/Brussels", day_of("2027-07-01"), &at), 0);
	CHECK_INT(at, utc("2027-06-30T22:00:00Z"));
	expiry_terminate(e, at);
	CHECK_INT(expiry_termination(e), at);
	/* a later notice never moves it back */
	expiry_terminate(e, utc("2028-01-01T00:00:00Z"));
	CHECK_INT(expiry_termination(e), at);
	CHECK_INT(expiry_scan(e, at - 1, &next), 5);
	CHECK_INT(next, at);
	CHECK_INT(expiry_scan(e, at, &next), 0);
	CHECK_INT(next, INT64_MAX);
	for (size_t i = 0; i < 5; i++) {
		CHECK(expiry_visible(e, i, at - 1));
		CHECK(!expiry_visible(e, i, at));
		CHECK_INT(expiry_record_end(e, i), at);
		CHECK_STR(expiry_record_reason(e, i), "termination");
	}
	{
		uint8_t drop[6] = {0};
		CHECK_INT(expiry_purgeable(e, at - 1, NULL), 0);
		CHECK_INT(expiry_purgeable(e, at, drop), 5);
		CHECK(memcmp(drop, "\1\1\1\1\1\0", 6) == 0);
	}
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, at - 1, expiry_termination(e), at, collect, &s), 5);
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, at, expiry_termination(e), at + 86400, collect, &s), 0);
	/* a termination learnt after the fact (its instant before the last pass):
	 * what was visible then under the old instant is reported as ended */
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, at + 3600, INT64_MAX, at + 3601, collect, &s), 5);
	memset(&s, 0, sizeof(s));
	CHECK_INT(expiry_ended(e, at + 3600, at + 1800, at + 3601, collect, &s), 0);
	/* an earlier notice does move it */
	expiry_terminate(e, at - 86400);
	CHECK_INT(expiry_termination(e), at - 86400);
	expiry_free(e);
	dataset_close(ds);
}

TEST(purged_never_visible)
{
	struct dataset *ds = open_ds(path_ds), *pd = NULL;
	struct expiry *e = NULL;
	uint8_t drop[5] = {0};
	char err[256];
	int64_t next;
	size_t jan, leap;

	if (!ds)
		return;
	/* record indices are file positions, the same after a purge; the purged ids
	 * themselves are gone from the file, so they are not found any more */
	jan = idx(ds, "D-jan");
	leap = idx(ds, "A-leap");
	drop[jan] = 1;
	drop[leap] = 1;
	CHECK_INT(dataset_purge_write(ds, drop, path_purged, err, sizeof(err)), 0);
	dataset_close(ds);
	pd = open_ds(path_purged);
	if (!pd)
		return;
	CHECK_INT(dataset_count(pd), 5);
	CHECK_INT(dataset_present(pd), 3);
	CHECK_INT(expiry_new(&e, pd, err, sizeof(err)), 0);
	if (e) {
		CHECK_INT(dataset_find(pd, "D-jan", 5), -1);
		CHECK_INT(dataset_find(pd, "A-leap", 6), -1);
		CHECK(!expiry_visible(e, jan, utc("2025-01-01T00:00:00Z")));
		CHECK(!expiry_visible(e, leap, utc("2025-01-01T00:00:00Z")));
		CHECK(expiry_visible(e, idx(pd, "B-march"), utc("2025-01-01T00:00:00Z")));
		CHECK_INT(expiry_scan(e, utc("2025-01-01T00:00:00Z"), &next), 3);
		CHECK_INT(next, utc("2029-02-28T23:00:00Z")); /* B, not the purged ones */
		struct seen s;
		memset(&s, 0, sizeof(s));
		CHECK_INT(expiry_ended(e, utc("2025-01-01T00:00:00Z"), expiry_termination(e),
				       utc("2029-03-01T00:00:00Z"), collect, &s),
			  1);
		CHECK_INT(s.rec[0], idx(pd, "B-march"));
	}
	expiry_free(e);
	dataset_close(pd);
}

int main(void)
{
	if (sodium_init() < 0)
		abort();
	setup();
	RUN(window_instants);
	RUN(deadlines_and_reasons);
	RUN(ended_between);
	RUN(termination);
	RUN(purged_never_visible);
	keys_secret_free(&iss);
	keys_secret_free(&rcp);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("  cleanup failed\n");
	UNIT_EXIT();
}
