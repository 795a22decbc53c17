/* test_dataset.c — the sealed dataset: round trip, every value exact, purge,
 * wrong keys, and every single-byte flip and every truncation of a small dataset
 * refused (never a crash, never a partial result). */
#include "unit.h"

#include "clock.h"
#include "dataset.h"
#include "keys.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pfs-unit-ds.XXXXXX";
static char path_iss[256], path_rcp[256], path_other[256], path_ds[512];
static struct keys_secret iss, rcp, other_rcp;
static struct keys_public iss_pub, rcp_pub, other_iss_pub;

static const char *ids[] = {"B-2", "A.1", "C_3", "a0"};
static const char *vals[4][3] = {
    {"Amina", "Bruul 12; bus 3\n2800 Mechelen", "+32 470 12 34 56"},
    {"Oleksandra", "", "+32 471 00 00 00"},
    {"Şükrü", "Hoogstraat \"5\"", ""},
    {"José", "Nekkerspoel 1", "+32 499 99 99 99"},
};
static const char *shared[] = {"2021-09-01", "2022-06-30", "2024-02-29", "2021-07-01"};

static void terms_fill(struct dataset_terms *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->protocol_id, "TEST-1");
	strcpy(t->issuer, "Agentschap");
	strcpy(t->recipient, "stad");
	strcpy(t->timezone, "Europe/Brussels");
	t->serial = 7;
	t->issued_at = 1700000000;
	clock_parse_date("2021-07-01", &t->start_day);
	clock_parse_date("2024-12-31", &t->end_day);
	t->retention_months = 60;
	t->retention_unit = 'y';
	t->nfields = 3;
	strcpy(t->fields[0], "first_name");
	strcpy(t->fields[1], "address");
	strcpy(t->fields[2], "phone");
}

static int seal_sample(const char *out, size_t n)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	size_t d1, d2;
	char err[512];
	int rc;

	terms_fill(&t);
	rc = dataset_writer_new(&w, &t, &rcp_pub, out, err, sizeof(err));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t lens[3];
		int32_t day;
		for (int f = 0; f < 3; f++)
			lens[f] = strlen(vals[i][f]);
		clock_parse_date(shared[i], &day);
		rc = dataset_writer_add(w, ids[i], strlen(ids[i]), day, vals[i], lens, err,
					sizeof(err));
	}
	if (rc == 0)
		rc = dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err));
	if (rc)
		printf("  seal: %s\n", err);
	dataset_writer_free(w);
	return rc;
}

static void setup(void)
{
	char err[512], p[512];

	if (!mkdtemp(dir))
		abort();
	snprintf(path_iss, sizeof(path_iss), "%s/iss", dir);
	snprintf(path_rcp, sizeof(path_rcp), "%s/rcp", dir);
	snprintf(path_other, sizeof(path_other), "%s/other", dir);
	snprintf(path_ds, sizeof(path_ds), "%s/d.pfs", dir);
	if (keys_generate(KEYS_ISSUER, path_iss, NULL, false, err, sizeof(err)) ||
	    keys_generate(KEYS_RECIPIENT, path_rcp, NULL, false, err, sizeof(err)) ||
	    keys_generate(KEYS_RECIPIENT, path_other, NULL, false, err, sizeof(err)))
		abort();
	snprintf(p, sizeof(p), "%s/other2", dir);
	if (keys_generate(KEYS_ISSUER, p, NULL, false, err, sizeof(err)))
		abort();
	strcat(p, ".pub");
	keys_public_load(&other_iss_pub, p, KEYS_ISSUER, err, sizeof(err));
	snprintf(p, sizeof(p), "%s.key", path_iss);
	keys_secret_load(&iss, p, KEYS_ISSUER, NULL, err, sizeof(err));
	snprintf(p, sizeof(p), "%s.pub", path_iss);
	keys_public_load(&iss_pub, p, KEYS_ISSUER, err, sizeof(err));
	snprintf(p, sizeof(p), "%s.key", path_rcp);
	keys_secret_load(&rcp, p, KEYS_RECIPIENT, NULL, err, sizeof(err));
	snprintf(p, sizeof(p), "%s.pub", path_rcp);
	keys_public_load(&rcp_pub, p, KEYS_RECIPIENT, err, sizeof(err));
	snprintf(p, sizeof(p), "%s.key", path_other);
	keys_secret_load(&other_rcp, p, KEYS_RECIPIENT, NULL, err, sizeof(err));
}

/* Every record decrypts to exactly the values sealed; ids are found only once
 * the dataset is unlocked. */
TEST(round_trip_every_value)
{
	struct dataset *ds = NULL;
	struct dataset_record rec = {0};
	char err[512];

	CHECK_INT(seal_sample(path_ds, 4), 0);
	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK(dataset_signature_checked(ds));
	CHECK_INT(dataset_count(ds), 4);
	CHECK_INT(dataset_present(ds), 4);
	CHECK_INT(dataset_terms(ds)->serial, 7);
	CHECK_STR(dataset_terms(ds)->fields[1], "address");
	CHECK_INT(dataset_find(ds, ids[0], strlen(ids[0])), -1); /* no index yet */
	size_t l = 99;
	CHECK_STR(dataset_record_id(ds, 0, &l), "");
	CHECK_INT(l, 0);
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		long k = dataset_find(ds, ids[i], strlen(ids[i]));
		size_t il;
		int32_t day;
		CHECK(k >= 0);
		if (k < 0)
			continue;
		CHECK(memcmp(dataset_record_id(ds, (size_t)k, &il), ids[i], strlen(ids[i])) == 0);
		CHECK_INT(il, strlen(ids[i]));
		clock_parse_date(shared[i], &day);
		CHECK_INT(dataset_record_shared_on(ds, (size_t)k), day);
		CHECK_INT(dataset_record_open(ds, (size_t)k, &rec, err, sizeof(err)), 0);
		CHECK_INT(rec.nfields, 3);
		for (int f = 0; f < 3; f++) {
			CHECK_INT(rec.vlen[f], strlen(vals[i][f]));
			CHECK(memcmp(rec.value[f], vals[i][f], rec.vlen[f]) == 0);
		}
		dataset_record_wipe(&rec);
	}
	CHECK_INT(dataset_find(ds, "A.", 2), -1);
	CHECK_INT(dataset_find(ds, "A.10", 4), -1);
	CHECK_INT(dataset_find(ds, "", 0), -1);
	CHECK_INT(dataset_find(ds, "zz", 2), -1);
	dataset_record_free(&rec);
	dataset_close(ds);
}

/* 2024-02-29 + 5y is 2029-02-28 (conservative). */
TEST(deadline_leap_day)
{
	struct dataset *ds = NULL;
	char err[512], d[CLOCK_DATE_LEN];

	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	clock_format_date(dataset_record_deadline(ds, (size_t)dataset_find(ds, "C_3", 3)), d);
	CHECK_STR(d, "2029-02-28");
	clock_format_date(dataset_record_deadline(ds, (size_t)dataset_find(ds, "A.1", 3)), d);
	CHECK_STR(d, "2027-06-30");
	dataset_close(ds);
}

TEST(wrong_keys)
{
	struct dataset *ds = NULL;
	char err[512];

	CHECK_INT(dataset_open(&ds, path_ds, &other_iss_pub, err, sizeof(err)), -EKEYREJECTED);
	CHECK(strstr(err, "wrong issuer key") != NULL);
	CHECK(ds == NULL);
	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &other_rcp, err, sizeof(err)), -EKEYREJECTED);
	CHECK(strstr(err, "wrong recipient key") != NULL);
	dataset_close(ds);
}

TEST(duplicate_id_refused)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	const char *v[3] = {"x", "y", "z"};
	size_t lens[3] = {1, 1, 1}, d1 = 99, d2 = 99;
	char err[512], out[600];

	terms_fill(&t);
	snprintf(out, sizeof(out), "%s/dup.pfs", dir);
	CHECK_INT(dataset_writer_new(&w, &t, &rcp_pub, out, err, sizeof(err)), 0);
	dataset_writer_add(w, "X1", 2, 19000, v, lens, err, sizeof(err));
	dataset_writer_add(w, "X2", 2, 19000, v, lens, err, sizeof(err));
	dataset_writer_add(w, "X1", 2, 19000, v, lens, err, sizeof(err));
	CHECK_INT(dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err)), -EEXIST);
	CHECK_INT(d1, 0);
	CHECK_INT(d2, 2);
	CHECK(access(out, F_OK) != 0);
	CHECK_INT(dataset_writer_add(w, ".x", 2, 19000, v, lens, err, sizeof(err)), -EINVAL);
	CHECK_INT(dataset_writer_add(w, "a/b", 3, 19000, v, lens, err, sizeof(err)), -EINVAL);
	dataset_writer_free(w);
}

/* Cut one record out: the rest still verifies and decrypts; the cut one is gone,
 * its id too (only its commitment stays in the signed index). */
TEST(purge_keeps_signature)
{
	struct dataset *ds = NULL, *p = NULL;
	struct dataset_record rec = {0};
	uint8_t drop[4] = {0};
	char err[512], out[600];
	long k;

	snprintf(out, sizeof(out), "%s/purged.pfs", dir);
	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	k = dataset_find(ds, "B-2", 3);
	CHECK(k >= 0 && k < 4);
	if (k < 0 || k >= 4)
		k = 0;
	drop[k] = 1;
	CHECK_INT(dataset_purge_write(ds, drop, out, err, sizeof(err)), 0);
	CHECK_INT(dataset_open(&p, out, &iss_pub, err, sizeof(err)), 0);
	if (p) {
		size_t il = 99;
		CHECK_INT(dataset_count(p), 4);
		CHECK_INT(dataset_present(p), 3);
		CHECK(!dataset_record_is_present(p, (size_t)k));
		CHECK_INT(dataset_unlock(p, &rcp, err, sizeof(err)), 0);
		char want[64];
		snprintf(want, sizeof(want), "record %ld: purged", k + 1);
		CHECK_INT(dataset_record_open(p, (size_t)k, &rec, err, sizeof(err)), -ENOENT);
		CHECK_STR(err, want);
		CHECK_INT(dataset_find(p, "B-2", 3), -1);
		CHECK_STR(dataset_record_id(p, (size_t)k, &il), "");
		CHECK_INT(il, 0);
		k = dataset_find(p, "C_3", 3);
		CHECK_INT(dataset_record_open(p, (size_t)k, &rec, err, sizeof(err)), 0);
		CHECK(rec.vlen[0] == strlen("Şükrü") &&
		      memcmp(rec.value[0], "Şükrü", rec.vlen[0]) == 0);
	}
	dataset_record_free(&rec);
	dataset_close(p);
	dataset_close(ds);
}

static int write_bytes(const char *p, const uint8_t *b, size_t n)
{
	FILE *f = fopen(p, "wb");
	int ok = f && fwrite(b, 1, n, f) == n;
	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

/* Every single-byte flip and every truncation of the file at path is refused
 * with a message; returns how many were accepted or refused silently. */
static size_t flips_and_truncations(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *orig = malloc(1 << 16), *b = malloc(1 << 16);
	char err[512], p[600];
	size_t n = 0, accepted = 0, silent = 0;

	snprintf(p, sizeof(p), "%s/mut.pfs", dir);
	if (f) {
		n = fread(orig, 1, 1 << 16, f);
		fclose(f);
	}
	CHECK(n > 500 && n < 4096);
	for (size_t i = 0; i < n; i++) {
		struct dataset *ds = NULL;
		memcpy(b, orig, n);
		b[i] ^= (uint8_t)(1u << (i % 8));
		write_bytes(p, b, n);
		err[0] = 0;
		if (dataset_open(&ds, p, &iss_pub, err, sizeof(err)) == 0) {
			accepted++;
			printf("  %s: flip at byte %zu accepted\n", path, i);
			dataset_close(ds);
		} else if (!err[0] || ds) {
			silent++;
		}
	}
	for (size_t len = 0; len < n; len++) {
		struct dataset *ds = NULL;
		write_bytes(p, orig, len);
		err[0] = 0;
		if (dataset_open(&ds, p, &iss_pub, err, sizeof(err)) == 0) {
			accepted++;
			printf("  %s: truncation to %zu accepted\n", path, len);
			dataset_close(ds);
		} else if (!err[0]) {
			silent++;
		}
	}
	free(orig);
	free(b);
	return accepted + silent;
}

/* Every single-byte flip and every truncation is refused with a message, of the
 * sealed file and of the same file after a purge (format 2). */
TEST(every_flip_and_truncation_refused)
{
	struct dataset *ds = NULL;
	uint8_t drop[4] = {0, 1, 0, 0};
	char err[512], out[600];

	snprintf(out, sizeof(out), "%s/flip-purged.pfs", dir);
	CHECK_INT(flips_and_truncations(path_ds), 0);
	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (ds)
		CHECK_INT(dataset_purge_write(ds, drop, out, err, sizeof(err)), 0);
	dataset_close(ds);
	CHECK_INT(flips_and_truncations(out), 0);
}

/* The index and dates are readable without a recipient key; records are not. */
TEST(index_without_unlock)
{
	struct dataset *ds = NULL;
	struct dataset_record rec = {0};
	char err[512];

	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_record_open(ds, 0, &rec, err, sizeof(err)), -ENOENT);
	CHECK_STR(err, "record 1: dataset not unlocked");
	dataset_record_free(&rec);
	dataset_close(ds);
}

/* An index past the end is refused before its manifest entry is read. */
TEST(index_out_of_range)
{
	struct dataset *ds = NULL;
	struct dataset_record rec = {0};
	char err[512];

	CHECK_INT(dataset_open(&ds, path_ds, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	CHECK_INT(dataset_record_open(ds, 4, &rec, err, sizeof(err)), -ERANGE);
	CHECK_STR(err, "record 5: out of range (4 records)");
	CHECK_INT(dataset_record_open(ds, 1000000, &rec, err, sizeof(err)), -ERANGE);
	CHECK_STR(err, "record 1000001: out of range (4 records)");
	dataset_record_free(&rec);
	dataset_close(ds);
}

/* The file order of the records says nothing of the ids or of the add order:
 * 200 ids added in ascending order come out as a random permutation (about 100
 * ascending neighbours and 1 fixed point expected; sorted would be 199 and 200;
 * the bounds fail by chance with p < 1e-9). */
TEST(record_order_random)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	struct dataset *ds = NULL;
	const char *v[3] = {"x", "y", "z"};
	size_t lens[3] = {1, 1, 1}, d1, d2, asc = 0, fixed = 0, found = 0;
	char err[512], out[600], id[8], prev[8] = "";

	terms_fill(&t);
	snprintf(out, sizeof(out), "%s/order.pfs", dir);
	CHECK_INT(dataset_writer_new(&w, &t, &rcp_pub, out, err, sizeof(err)), 0);
	for (int i = 0; w && i < 200; i++) {
		snprintf(id, sizeof(id), "R%03d", i);
		CHECK_INT(dataset_writer_add(w, id, 4, 19000, v, lens, err, sizeof(err)), 0);
	}
	if (w)
		CHECK_INT(dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err)), 0);
	dataset_writer_free(w);
	CHECK_INT(dataset_open(&ds, out, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	for (size_t i = 0; i < dataset_count(ds); i++) {
		size_t il;
		const char *p = dataset_record_id(ds, i, &il);
		snprintf(id, sizeof(id), "%.*s", (int)il, p);
		snprintf(err, sizeof(err), "R%03zu", i);
		fixed += strcmp(id, err) == 0;
		asc += i > 0 && strcmp(prev, id) < 0;
		found += dataset_find(ds, id, il) == (long)i;
		memcpy(prev, id, sizeof(id));
	}
	CHECK_INT(found, 200);
	CHECK(fixed < 12);
	CHECK(asc > 60 && asc < 140);
	if (fixed >= 12 || asc <= 60 || asc >= 140)
		printf("  %zu fixed points, %zu ascending neighbours\n", fixed, asc);
	dataset_close(ds);
}

/* With no memory budget every unit goes through the temporary file, those larger
 * than a bucket's buffer on their own: the result is the same dataset. */
TEST(spool_round_trip)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	struct dataset *ds = NULL;
	struct dataset_record rec = {0};
	static char big[DATASET_VALUE_MAX];
	const char *v[3] = {big, "y", big};
	size_t lens[3], d1, d2, ok = 0;
	char err[512], out[600], id[8];

	memset(big, 'b', sizeof(big));
	terms_fill(&t);
	snprintf(out, sizeof(out), "%s/spool.pfs", dir);
	CHECK_INT(dataset_writer_new(&w, &t, &rcp_pub, out, err, sizeof(err)), 0);
	if (w)
		dataset_writer_set_budget(w, 0);
	for (int i = 0; w && i < 300; i++) {
		lens[0] = (size_t)(i * 211) % sizeof(big);
		lens[1] = 1;
		lens[2] = i % 7 == 0 ? sizeof(big) : (size_t)i;
		snprintf(id, sizeof(id), "S%03d", i);
		CHECK_INT(dataset_writer_add(w, id, 4, 19000 + i, v, lens, err, sizeof(err)), 0);
	}
	if (w)
		CHECK_INT(dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err)), 0);
	dataset_writer_free(w);
	CHECK_INT(dataset_open(&ds, out, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	for (int i = 0; i < 300; i++) {
		long k;
		snprintf(id, sizeof(id), "S%03d", i);
		k = dataset_find(ds, id, 4);
		if (k < 0 || dataset_record_open(ds, (size_t)k, &rec, err, sizeof(err)) != 0)
			continue;
		ok += dataset_record_shared_on(ds, (size_t)k) == 19000 + i &&
		      rec.vlen[0] == (size_t)(i * 211) % sizeof(big) && rec.vlen[1] == 1 &&
		      rec.vlen[2] == (i % 7 == 0 ? sizeof(big) : (size_t)i) &&
		      memcmp(rec.value[2], big, rec.vlen[2]) == 0;
		dataset_record_wipe(&rec);
	}
	CHECK_INT(ok, 300);
	dataset_record_free(&rec);
	dataset_close(ds);
}

/* The index over many records (two threads decrypt the ids): 600 short ids, and
 * 600 of 64 bytes, more than the arena's first guess (it grows). Every id is
 * found at its record, and none that is not there. */
static void index_many(size_t idlen)
{
	struct dataset_terms t;
	struct dataset_writer *w = NULL;
	struct dataset *ds = NULL;
	const char *v[3] = {"x", "y", "z"};
	size_t lens[3] = {1, 1, 1}, d1, d2, found = 0;
	char err[512], out[600], id[DATASET_ID_MAX + 1];

	terms_fill(&t);
	snprintf(out, sizeof(out), "%s/many.pfs", dir);
	CHECK_INT(dataset_writer_new(&w, &t, &rcp_pub, out, err, sizeof(err)), 0);
	for (int i = 0; w && i < 600; i++) {
		snprintf(id, sizeof(id), "M%0*d", (int)idlen - 1, i);
		CHECK_INT(dataset_writer_add(w, id, idlen, 19000, v, lens, err, sizeof(err)), 0);
	}
	if (w)
		CHECK_INT(dataset_writer_finish(w, &iss, true, &d1, &d2, err, sizeof(err)), 0);
	dataset_writer_free(w);
	CHECK_INT(dataset_open(&ds, out, &iss_pub, err, sizeof(err)), 0);
	if (!ds)
		return;
	CHECK_INT(dataset_unlock(ds, &rcp, err, sizeof(err)), 0);
	for (int i = 0; i < 600; i++) {
		size_t il = 0;
		long k;
		snprintf(id, sizeof(id), "M%0*d", (int)idlen - 1, i);
		k = dataset_find(ds, id, idlen);
		found += k >= 0 && dataset_record_id(ds, (size_t)k, &il) && il == idlen &&
			 memcmp(dataset_record_id(ds, (size_t)k, &il), id, idlen) == 0;
	}
	CHECK_INT(found, 600);
	snprintf(id, sizeof(id), "M%0*d", (int)idlen - 1, 600);
	CHECK_INT(dataset_find(ds, id, idlen), -1);
	dataset_close(ds);
}

TEST(index_many_short_ids)
{
	index_many(6);
}

TEST(index_many_long_ids)
{
	index_many(DATASET_ID_MAX);
}

/* A format 1 file (the committed fixture) is refused by name, with or without
 * the issuer's key: there is one reader, for format 2. */
TEST(format1_refused)
{
	const char *f1 = "tests/fixtures/dataset/format1.pfs";
	struct dataset *ds = NULL;
	char err[512], want[600];

	snprintf(want, sizeof(want),
		 "%s: dataset format 1 is no longer read (this protocolfs reads format 2): ask "
		 "the issuer to seal it again",
		 f1);
	CHECK_INT(dataset_open(&ds, f1, &iss_pub, err, sizeof(err)), -EPROTONOSUPPORT);
	CHECK_STR(err, want);
	CHECK(ds == NULL);
	CHECK_INT(dataset_open(&ds, f1, NULL, err, sizeof(err)), -EPROTONOSUPPORT);
	CHECK_STR(err, want);
	dataset_close(ds);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	setup();
	RUN(round_trip_every_value);
	RUN(deadline_leap_day);
	RUN(wrong_keys);
	RUN(duplicate_id_refused);
	RUN(purge_keeps_signature);
	RUN(every_flip_and_truncation_refused);
	RUN(index_without_unlock);
	RUN(index_out_of_range);
	RUN(format1_refused);
	RUN(record_order_random);
	RUN(spool_round_trip);
	RUN(index_many_short_ids);
	RUN(index_many_long_ids);
	keys_secret_free(&iss);
	keys_secret_free(&rcp);
	keys_secret_free(&other_rcp);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	UNIT_EXIT();
}
