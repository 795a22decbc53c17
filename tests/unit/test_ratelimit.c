/* test_ratelimit.c — the sliding-window limiter (Art. 6: misuse detected): exact
 * per key for any number of keys (no reset when keys share a hash slot, as uids
 * 256 apart did in the old 256-slot table), no burst of twice the limit across a
 * minute boundary, refusals counted for the summary, immediate repeats
 * recognised, idle keys dropped without changing an answer. */
#include "unit.h"

#include "ratelimit.h"

#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int take_uid(struct ratelimit *rl, uint32_t uid, int64_t ms)
{
	return ratelimit_take(rl, &uid, sizeof(uid), 0, ms);
}

/* How many of n events of key uid at time ms are allowed. */
static unsigned allowed(struct ratelimit *rl, uint32_t uid, unsigned n, int64_t ms)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += take_uid(rl, uid, ms) == RATELIMIT_ALLOW;
	return ok;
}

TEST(limit_zero_refused)
{
	struct ratelimit *rl = (void *)1;
	char err[128] = "";

	CHECK_INT(ratelimit_new(&rl, 0, err, sizeof(err)), -EINVAL);
	CHECK(rl == NULL);
	CHECK_STR(err, "rate limiter: limit 0");
}

TEST(exact_per_key_for_many_keys)
{
	struct ratelimit *rl;
	char err[128];
	unsigned total = 0;

	CHECK_INT(ratelimit_new(&rl, 3, err, sizeof(err)), 0);
	/* 10,000 keys, among them uids 256 and 65536 apart: each gets exactly 3 of 7 */
	for (uint32_t u = 0; u < 10000; u++)
		total += allowed(rl, 1000 + u * 256, 7, 5000);
	CHECK_INT(total, 30000);
	CHECK_INT(ratelimit_keys(rl), 10000);
	/* interleaved: still 3 each */
	total = 0;
	for (unsigned r = 0; r < 5; r++)
		for (uint32_t u = 0; u < 4; u++)
			total += take_uid(rl, 7 + u * 256, 6000) == RATELIMIT_ALLOW;
	CHECK_INT(total, 12);
	ratelimit_free(rl);
}

TEST(first_refusal_then_refusals)
{
	struct ratelimit *rl;
	char err[128];

	CHECK_INT(ratelimit_new(&rl, 2, err, sizeof(err)), 0);
	CHECK_INT(take_uid(rl, 1, 0), RATELIMIT_ALLOW);
	CHECK_INT(take_uid(rl, 1, 10), RATELIMIT_ALLOW);
	CHECK_INT(take_uid(rl, 1, 20), RATELIMIT_REFUSE_FIRST);
	CHECK_INT(take_uid(rl, 1, 30), RATELIMIT_REFUSE);
	CHECK_INT(take_uid(rl, 1, 59999), RATELIMIT_REFUSE);
	/* second 0 is in the window until second 61 */
	CHECK_INT(take_uid(rl, 1, 60999), RATELIMIT_REFUSE);
	CHECK_INT(take_uid(rl, 1, 61000), RATELIMIT_ALLOW);
	CHECK_INT(take_uid(rl, 1, 61001), RATELIMIT_ALLOW);
	CHECK_INT(take_uid(rl, 1, 61002), RATELIMIT_REFUSE_FIRST);
	ratelimit_free(rl);
}

/* The fixed minute let 2 x limit through around a boundary: 59.9 s and 60.0 s. */
TEST(no_double_burst_across_a_minute)
{
	struct ratelimit *rl;
	char err[128];

	CHECK_INT(ratelimit_new(&rl, 10, err, sizeof(err)), 0);
	CHECK_INT(allowed(rl, 5, 10, 59900), 10);
	CHECK_INT(allowed(rl, 5, 10, 60000), 0);
	CHECK_INT(allowed(rl, 5, 10, 119999), 0);
	CHECK_INT(allowed(rl, 5, 10, 120000), 10);
	ratelimit_free(rl);
}

/* In any 60-second interval of a random stream, at most max are allowed. */
TEST(sliding_window_bound_holds)
{
	struct ratelimit *rl;
	char err[128];
	enum { N = 20000 };
	static int64_t at[N];
	size_t n = 0, lo = 0;
	int64_t t = 0;
	bool ok = true;

	CHECK_INT(ratelimit_new(&rl, 17, err, sizeof(err)), 0);
	for (unsigned i = 0; i < N; i++) {
		t += randombytes_uniform(700);
		if (take_uid(rl, 9, t) == RATELIMIT_ALLOW)
			at[n++] = t;
	}
	for (size_t hi = 0; hi < n; hi++) {
		while (at[hi] - at[lo] >= 60000)
			lo++;
		ok &= hi - lo + 1 <= 17;
	}
	CHECK(ok);
	CHECK(n > 17 * 10); /* the stream spans many windows and kept being served */
	ratelimit_free(rl);
}

struct drained {
	unsigned calls;
	uint64_t count;
	int64_t since;
	uint32_t key;
};

static void on_drain(void *ctx, const void *key, size_t klen, uint64_t count, int64_t since_ms)
{
	struct drained *d = ctx;

	d->calls++;
	d->count = count;
	d->since = since_ms;
	if (klen == sizeof(d->key))
		memcpy(&d->key, key, klen);
}

TEST(refusals_drained_once_after_their_age)
{
	struct ratelimit *rl;
	char err[128];
	struct drained d = {0};

	CHECK_INT(ratelimit_new(&rl, 1, err, sizeof(err)), 0);
	CHECK_INT(allowed(rl, 42, 8, 1000), 1);
	CHECK_INT(ratelimit_drain(rl, 30000, 60000, on_drain, &d), 0);
	CHECK_INT(d.calls, 0);
	CHECK_INT(ratelimit_drain(rl, 61000, 60000, on_drain, &d), 1);
	CHECK_INT(d.calls, 1);
	CHECK_INT(d.count, 7);
	CHECK_INT(d.since, 1000);
	CHECK_INT(d.key, 42);
	CHECK_INT(ratelimit_drain(rl, 200000, 0, on_drain, &d), 0);
	CHECK_INT(d.calls, 1);
	/* a final drain (age 0) takes fresh ones too */
	CHECK_INT(allowed(rl, 43, 3, 300000), 1);
	CHECK_INT(ratelimit_drain(rl, 300000, 0, on_drain, &d), 1);
	CHECK_INT(d.count, 2);
	CHECK_INT(d.key, 43);
	ratelimit_free(rl);
}

TEST(repeat_within_a_second_counts_once)
{
	struct ratelimit *rl;
	char err[128];
	uint32_t k = 3;

	CHECK_INT(ratelimit_new(&rl, 5, err, sizeof(err)), 0);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 77, 1000), RATELIMIT_ALLOW);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 77, 1002), RATELIMIT_REPEAT);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 78, 1003), RATELIMIT_ALLOW);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 77, 1004), RATELIMIT_ALLOW);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 77, 2004), RATELIMIT_ALLOW);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 0, 2005), RATELIMIT_ALLOW);
	CHECK_INT(ratelimit_take(rl, &k, sizeof(k), 0, 2006), RATELIMIT_REFUSE_FIRST);
	ratelimit_free(rl);
}

TEST(idle_keys_dropped_without_changing_answers)
{
	struct ratelimit *rl;
	char err[128];

	CHECK_INT(ratelimit_new(&rl, 2, err, sizeof(err)), 0);
	for (uint32_t u = 0; u < 1000; u++)
		CHECK_INT(allowed(rl, u, 3, 0), 2);
	CHECK_INT(ratelimit_drain(rl, 0, 0, on_drain, &(struct drained){0}), 1000);
	/* 62 s later all are idle: new keys make the table rebuild and drop them */
	for (uint32_t u = 5000; u < 8000; u++)
		CHECK_INT(allowed(rl, u, 1, 62000), 1);
	CHECK_INT(ratelimit_keys(rl), 3000);
	/* an old key starts afresh, as it would have anyway */
	CHECK_INT(allowed(rl, 1, 2, 62000), 2);
	/* a key with pending refusals is kept until drained */
	CHECK_INT(allowed(rl, 9000, 3, 62000), 2);
	for (uint32_t u = 10000; u < 14000; u++)
		allowed(rl, u, 1, 200000);
	{
		struct drained d = {0};
		CHECK_INT(ratelimit_drain(rl, 200000, 60000, on_drain, &d), 1);
		CHECK_INT(d.key, 9000);
		CHECK_INT(d.count, 1);
	}
	ratelimit_free(rl);
}

TEST(bad_key_length_refused)
{
	struct ratelimit *rl;
	char err[128], big[RATELIMIT_KEY_MAX + 1] = {0};

	CHECK_INT(ratelimit_new(&rl, 2, err, sizeof(err)), 0);
	CHECK_INT(ratelimit_take(rl, big, 0, 0, 0), -EINVAL);
	CHECK_INT(ratelimit_take(rl, big, sizeof(big), 0, 0), -EINVAL);
	CHECK_INT(ratelimit_take(rl, big, sizeof(big) - 1, 0, 0), RATELIMIT_ALLOW);
	ratelimit_free(rl);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(limit_zero_refused);
	RUN(exact_per_key_for_many_keys);
	RUN(first_refusal_then_refusals);
	RUN(no_double_burst_across_a_minute);
	RUN(sliding_window_bound_holds);
	RUN(refusals_drained_once_after_their_age);
	RUN(repeat_within_a_second_counts_once);
	RUN(idle_keys_dropped_without_changing_answers);
	RUN(bad_key_length_refused);
	UNIT_EXIT();
}
