/* ratelimit.c — exact per-key sliding-window counters (see ratelimit.h).
 *
 * An open-addressing table (linear probing) of pointers to entries, at most half
 * full; it doubles when it would pass that, and only then are idle entries
 * dropped (rehashing is the one moment a probe chain can be rebuilt without
 * tombstones). Each entry keeps 61 one-second buckets and their sum, moved
 * forward lazily when the key is next seen. */
#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define RL_BUCKETS (RATELIMIT_WINDOW_S + 1)

struct rl_entry {
	uint64_t hash;
	int64_t second; /* of buckets[second % RL_BUCKETS], the newest */
	uint32_t buckets[RL_BUCKETS];
	uint32_t sum;	       /* of buckets */
	uint64_t refused;      /* since the last allow or drain */
	int64_t refused_since; /* ms of the first of them */
	bool over;	       /* refused since the last allow */
	uint64_t tag;	       /* of the previous request */
	int64_t tag_ms;
	size_t klen;
	unsigned char key[];
};

/* mu guards every field below it and every entry. */
struct ratelimit {
	pthread_mutex_t mu;
	unsigned max;
	unsigned char hkey[crypto_shorthash_KEYBYTES]; /* set once in ratelimit_new */
	struct rl_entry **slot;
	size_t cap; /* a power of two */
	size_t n;
};

int ratelimit_new(struct ratelimit **out, unsigned max, char *err, size_t errlen)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	*out = NULL;
	if (!rl || max == 0 || !(rl->slot = calloc(64, sizeof(*rl->slot)))) {
		free(rl);
		util_errf(err, errlen,
			  max ? "rate limiter: out of memory" : "rate limiter: limit 0");
		return max ? -ENOMEM : -EINVAL;
	}
	pthread_mutex_init(&rl->mu, NULL);
	rl->max = max;
	rl->cap = 64;
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->cap; i++)
		free(rl->slot[i]);
	free(rl->slot);
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

static uint64_t rl_hash(const struct ratelimit *rl, const void *key, size_t klen)
{
	unsigned char h[crypto_shorthash_BYTES];

	crypto_shorthash(h, key, klen, rl->hkey);
	return util_load_le64(h);
}

/* Move e's window forward to second now: buckets that fell out are emptied. */
static void rl_advance(struct rl_entry *e, int64_t now)
{
	if (now <= e->second)
		return; /* the monotonic clock does not go back; a same-second event */
	if (now - e->second >= RL_BUCKETS) {
		memset(e->buckets, 0, sizeof(e->buckets));
		e->sum = 0;
	} else {
		for (int64_t s = e->second + 1; s <= now; s++) {
			uint32_t *b = &e->buckets[s % RL_BUCKETS];
			e->sum -= *b;
			*b = 0;
		}
	}
	e->second = now;
}

/* Nothing in the window, nothing pending, no repeat to recognise: dropping the
 * entry changes no later answer (its next event is allowed either way, which
 * also ends `over`). */
static bool rl_idle(const struct rl_entry *e, int64_t now_ms)
{
	return now_ms / 1000 - e->second >= RL_BUCKETS && e->refused == 0 &&
	       now_ms - e->tag_ms >= RATELIMIT_REPEAT_MS;
}

static void rl_place(struct rl_entry **slot, size_t cap, struct rl_entry *e)
{
	size_t i = e->hash & (cap - 1);

	while (slot[i])
		i = (i + 1) & (cap - 1);
	slot[i] = e;
}

/* Under mu: make room for one more entry (the table stays at most half full),
 * dropping idle ones while rehashing. */
static int rl_grow(struct ratelimit *rl, int64_t now_ms)
{
	size_t live = 0, cap = rl->cap;
	struct rl_entry **slot;

	if ((rl->n + 1) * 2 <= rl->cap)
		return 0;
	for (size_t i = 0; i < rl->cap; i++)
		live += rl->slot[i] && !rl_idle(rl->slot[i], now_ms);
	/* at most a quarter full after a rebuild: rebuilds stay amortised O(1) */
	while ((live + 1) * 4 > cap)
		cap *= 2;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	rl->n = 0;
	for (size_t i = 0; i < rl->cap; i++) {
		struct rl_entry *e = rl->slot[i];
		if (!e)
			continue;
		if (rl_idle(e, now_ms)) {
			free(e);
			continue;
		}
		rl_place(slot, cap, e);
		rl->n++;
	}
	free(rl->slot);
	rl->slot = slot;
	rl->cap = cap;
	return 0;
}

/* Under mu: the entry for key, created when missing; NULL when out of memory. */
static struct rl_entry *rl_find(struct ratelimit *rl, const void *key, size_t klen, int64_t now_ms)
{
	uint64_t h = rl_hash(rl, key, klen);
	size_t i = h & (rl->cap - 1);
	struct rl_entry *e;

	for (; (e = rl->slot[i]); i = (i + 1) & (rl->cap - 1))
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	if (rl_grow(rl, now_ms) < 0 || !(e = calloc(1, sizeof(*e) + klen)))
		return NULL;
	e->hash = h;
	e->second = now_ms / 1000;
	e->tag_ms = INT64_MIN / 2;
	e->klen = klen;
	memcpy(e->key, key, klen);
	rl_place(rl->slot, rl->cap, e);
	rl->n++;
	return e;
}

static int rl_decide(struct ratelimit *rl, struct rl_entry *e, uint64_t tag, int64_t now_ms)
{
	bool repeat = tag && e->tag == tag && now_ms - e->tag_ms < RATELIMIT_REPEAT_MS;

	e->tag = tag;
	e->tag_ms = now_ms;
	if (repeat)
		return RATELIMIT_REPEAT;
	rl_advance(e, now_ms / 1000);
	if (e->sum < rl->max) {
		e->buckets[e->second % RL_BUCKETS]++;
		e->sum++;
		e->over = false;
		return RATELIMIT_ALLOW;
	}
	if (e->refused++ == 0)
		e->refused_since = now_ms;
	if (e->over)
		return RATELIMIT_REFUSE;
	e->over = true;
	return RATELIMIT_REFUSE_FIRST;
}

int ratelimit_take(struct ratelimit *rl, const void *key, size_t klen, uint64_t tag, int64_t now_ms)
{
	struct rl_entry *e;
	int rc;

	if (klen == 0 || klen > RATELIMIT_KEY_MAX)
		return -EINVAL;
	pthread_mutex_lock(&rl->mu);
	e = rl_find(rl, key, klen, now_ms);
	rc = e ? rl_decide(rl, e, tag, now_ms) : -ENOMEM;
	pthread_mutex_unlock(&rl->mu);
	return rc;
}

struct rl_pending {
	uint64_t count;
	int64_t since;
	size_t klen;
	unsigned char key[RATELIMIT_KEY_MAX];
};

ssize_t ratelimit_drain(struct ratelimit *rl, int64_t now_ms, int64_t min_age_ms,
			ratelimit_drain_fn fn, void *ctx)
{
	struct rl_pending *p = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < rl->cap; i++) {
		struct rl_entry *e = rl->slot[i];
		if (!e || !e->refused || (min_age_ms && now_ms - e->refused_since < min_age_ms))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct rl_pending *np = realloc(p, nc * sizeof(*p));
			if (!np) {
				/* nothing was cleared: the next drain reports them all */
				pthread_mutex_unlock(&rl->mu);
				free(p);
				return -ENOMEM;
			}
			p = np;
			cap = nc;
		}
		p[n].count = e->refused;
		p[n].since = e->refused_since;
		p[n].klen = e->klen;
		memcpy(p[n].key, e->key, e->klen);
		n++;
	}
	/* all copied: now clear them (a failed copy above left everything pending) */
	for (size_t i = 0; i < rl->cap; i++) {
		struct rl_entry *e = rl->slot[i];
		if (e && e->refused && !(min_age_ms && now_ms - e->refused_since < min_age_ms))
			e->refused = 0;
	}
	pthread_mutex_unlock(&rl->mu);
	for (size_t i = 0; i < n; i++)
		fn(ctx, p[i].key, p[i].klen, p[i].count, p[i].since);
	free(p);
	return (ssize_t)n;
}

void ratelimit_set_max(struct ratelimit *rl, unsigned max)
{
	if (!max)
		return;
	pthread_mutex_lock(&rl->mu);
	rl->max = max;
	pthread_mutex_unlock(&rl->mu);
}

size_t ratelimit_keys(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->mu);
	n = rl->n;
	pthread_mutex_unlock(&rl->mu);
	return n;
}
