/* ratelimit-micro.c — the limiter's own cost: ns per ratelimit_take over K keys
 * (default 10,000 uids, round robin), one thread, with the clock read per call as
 * audit_rate_take does. Build (from the repository, after make build):
 *   cc -O2 -Iinclude -o /tmp/rlm tests/bench/ratelimit-micro.c build/ratelimit.o build/util.o -lsodium
 * Prints "keys=K calls=N ns_per_take=X". */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ratelimit.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned keys = argc > 1 ? (unsigned)atoi(argv[1]) : 10000, calls = 5000000;
	struct ratelimit *rl;
	char err[128];
	int64_t t0, t1;
	unsigned allowed = 0;

	if (sodium_init() < 0 || ratelimit_new(&rl, 1000000, err, sizeof(err)) < 0)
		return 2;
	t0 = mono_ns();
	for (unsigned i = 0; i < calls; i++) {
		uint32_t uid = 100000 + i % keys;
		allowed += ratelimit_take(rl, &uid, sizeof(uid), 0, mono_ns() / 1000000) ==
			   RATELIMIT_ALLOW;
	}
	t1 = mono_ns();
	printf("keys=%u calls=%u allowed=%u ns_per_take=%.1f\n", keys, calls, allowed,
	       (double)(t1 - t0) / calls);
	ratelimit_free(rl);
	return 0;
}
