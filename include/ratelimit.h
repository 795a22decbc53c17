/* ratelimit.h — exact per-key sliding-window counters (Art. 6: misuse detected).
 *
 * A limiter allows at most `max` events per key in any 60 seconds. Time is cut
 * into whole seconds; an event at second s is allowed when fewer than max events
 * were allowed in seconds s-60 .. s (61 buckets). Any real interval of 60 seconds
 * lies inside 61 consecutive whole seconds, so no such interval ever holds more
 * than max allowed events: a burst cannot straddle a boundary as it could with a
 * fixed minute. The price of the 1-second resolution: after using up the limit
 * a key waits 60 to 61 seconds for its oldest second to leave the window.
 *
 * Keys are byte strings (a uid, a profile name, a uid plus a reason) of at most
 * RATELIMIT_KEY_MAX bytes; every key has its own counters, for any number of
 * keys: the table grows (a keyed SipHash with a random key per limiter, so that
 * callers cannot choose colliding keys), and nothing is reset when keys collide.
 * Idle keys (nothing counted in the window, nothing pending) are dropped when
 * the table grows. The limiter also counts the refusals since a key was last
 * allowed, so a caller can write one summary for them (ratelimit_drain), and
 * recognises an immediate repeat of the same request (see ratelimit_take).
 *
 * Thread-safe: one mutex per limiter guards the table and every entry. */
#ifndef PFS_RATELIMIT_H
#define PFS_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RATELIMIT_KEY_MAX   128
#define RATELIMIT_WINDOW_S  60
#define RATELIMIT_REPEAT_MS 1000

enum ratelimit_verdict {
	RATELIMIT_ALLOW,	/* counted */
	RATELIMIT_REFUSE_FIRST, /* over the limit; the first refusal since the last allow */
	RATELIMIT_REFUSE,	/* over the limit again */
	RATELIMIT_REPEAT,	/* the same request as the key's previous one: not counted */
};

struct ratelimit;

/* A limiter of max (>= 1) events per key per window. 0 or -ENOMEM (message in err). */
int ratelimit_new(struct ratelimit **rl, unsigned max, char *err, size_t errlen);

/* Count one event for key (klen bytes, 1..RATELIMIT_KEY_MAX) at now_ms (a
 * monotonic clock in milliseconds). tag != 0 names the request (for example a
 * hash of process, operation and name): when it equals the key's previous tag and
 * that request came less than RATELIMIT_REPEAT_MS earlier, the event is a repeat
 * (RATELIMIT_REPEAT, not counted) — the kernel asks twice for one walk of a
 * cached name. Returns a verdict, or -ENOMEM when the table cannot grow, or
 * -EINVAL for a bad key length (the caller must refuse: fail closed). A refusal
 * is not counted against the window; it adds to the key's pending refusals. */
int ratelimit_take(struct ratelimit *rl, const void *key, size_t klen, uint64_t tag,
		   int64_t now_ms);

/* Called by ratelimit_drain for each key with pending refusals: count refusals,
 * the first at since_ms (same clock as ratelimit_take). */
typedef void (*ratelimit_drain_fn)(void *ctx, const void *key, size_t klen, uint64_t count,
				   int64_t since_ms);

/* Clear the pending refusals of every key whose first pending refusal is at
 * least min_age_ms old (0: all, for a final drain), then report each to fn, in no
 * particular order. fn runs with no lock held (it may write to a log and wait for
 * a flush). Returns how many keys were reported, or -ENOMEM (nothing cleared). */
ssize_t ratelimit_drain(struct ratelimit *rl, int64_t now_ms, int64_t min_age_ms,
			ratelimit_drain_fn fn, void *ctx);

/* Change the limit (>= 1; 0 is ignored); counts in the window are kept. */
void ratelimit_set_max(struct ratelimit *rl, unsigned max);

/* Number of keys held (for tests and the benchmark). */
size_t ratelimit_keys(struct ratelimit *rl);

/* NULL is fine. */
void ratelimit_free(struct ratelimit *rl);

#endif
