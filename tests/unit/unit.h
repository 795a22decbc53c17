/* unit.h — the unit-test harness: each CHECK prints nothing when it holds and a
 * "FAIL file:line: ..." line when it does not; each TEST block prints one
 * "PASS name" or "FAIL name" line that tests/run.sh counts. */
#ifndef PFS_UNIT_H
#define PFS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_total;
static int unit_failed_here;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  check failed %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
			unit_failed_here++;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!g_ || strcmp(g_, w_) != 0) {                                                  \
			printf("  check failed %s:%d: got \"%s\", want \"%s\"\n", __FILE__,        \
			       __LINE__, g_ ? g_ : "(null)", w_);                                  \
			unit_failed_here++;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_) {                                                                    \
			printf("  check failed %s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, \
			       #got, g_, w_);                                                      \
			unit_failed_here++;                                                        \
		}                                                                                  \
	} while (0)

/* TEST(name) { body } — runs body and reports it. */
#define TEST(name)                                                                                 \
	static void test_body_##name(void);                                                        \
	static void test_##name(void)                                                              \
	{                                                                                          \
		unit_failed_here = 0;                                                              \
		test_body_##name();                                                                \
		printf("%s %s\n", unit_failed_here ? "FAIL" : "PASS", #name);                      \
		unit_failed_total += unit_failed_here ? 1 : 0;                                     \
		fflush(stdout);                                                                    \
	}                                                                                          \
	static void test_body_##name(void)

#define RUN(name)   test_##name()
#define UNIT_EXIT() return unit_failed_total ? 1 : 0

#endif
