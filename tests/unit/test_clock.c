/* test_clock.c — civil dates and time zones (Art. 2, 5, 12): strict date parsing,
 * month arithmetic clamped to the end of the month (29 Feb + 5y = 28 Feb),
 * retention periods, the UTC instant at which a Brussels civil day starts (across
 * both daylight-saving changes, whatever TZ the process runs in), the civil day of
 * an instant, and the persisted high-water mark of time. */
#include "unit.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BXL "Europe/Brussels"

static int32_t day_of(const char *s)
{
	int32_t d = INT32_MIN;

	if (clock_parse_date(s, &d) != 0) {
		printf("  helper: cannot parse %s\n", s);
		return INT32_MIN;
	}
	return d;
}

static const char *fmt(int32_t day)
{
	static char buf[4][CLOCK_DATE_LEN];
	static int k;

	k = (k + 1) % 4;
	clock_format_date(day, buf[k]);
	return buf[k];
}

static const char *fmt_utc(int64_t t)
{
	static char buf[4][21];
	static int k;

	k = (k + 1) % 4;
	clock_format_utc(t, buf[k]);
	return buf[k];
}

TEST(parse_date_valid)
{
	int32_t d = -1;

	CHECK_INT(clock_parse_date("1970-01-01", &d), 0);
	CHECK_INT(d, 0);
	CHECK_INT(clock_parse_date("1970-01-02", &d), 0);
	CHECK_INT(d, 1);
	CHECK_INT(clock_parse_date("1969-12-31", &d), 0);
	CHECK_INT(d, -1);
	CHECK_INT(clock_parse_date("2022-06-30", &d), 0);
	CHECK_INT(d, 19173);
	CHECK_INT(clock_parse_date("2000-02-29", &d), 0); /* divisible by 400: leap */
	CHECK_STR(fmt(d), "2000-02-29");
	CHECK_INT(clock_parse_date("1900-01-01", &d), 0);
	CHECK_STR(fmt(d), "1900-01-01");
	CHECK_INT(clock_parse_date("9999-12-31", &d), 0);
	CHECK_STR(fmt(d), "9999-12-31");
	CHECK_INT(clock_parse_date("2021-12-31", &d), 0);
	CHECK_STR(fmt(d), "2021-12-31");
}

TEST(parse_date_leap_days)
{
	int32_t d = 12345;

	CHECK_INT(clock_parse_date("2022-02-29", &d), -EINVAL);
	CHECK_INT(d, 12345); /* untouched on error */
	CHECK_INT(clock_parse_date("2024-02-29", &d), 0);
	CHECK_STR(fmt(d), "2024-02-29");
	CHECK_INT(d, day_of("2024-02-28") + 1);
	CHECK_INT(d + 1, day_of("2024-03-01"));
	CHECK_INT(clock_parse_date("2100-02-29", &d), -EINVAL); /* century, not /400 */
	CHECK_INT(clock_parse_date("1900-02-29", &d), -EINVAL);
	CHECK_INT(clock_parse_date("2023-02-29", &d), -EINVAL);
	CHECK_INT(clock_parse_date("2024-02-30", &d), -EINVAL);
}

TEST(parse_date_junk)
{
	static const char *bad[] = {
	    "",
	    "2022",
	    "2022-06",
	    "2022-6-30",
	    "2022-06-3",
	    "22-06-30",
	    "2022-06-30 ",
	    " 2022-06-30",
	    "2022-06-30x",
	    "2022/06/30",
	    "2022-06_30",
	    "abcd-ef-gh",
	    "2022-0a-30",
	    "2022-06-3a",
	    "+022-06-30",
	    "-022-06-30",
	    "2022--6-30",
	    "2022-13-01",
	    "2022-00-10",
	    "2022-04-31",
	    "2022-06-00",
	    "2022-06-31",
	    "2022-01-32",
	    "1899-12-31",
	    "0000-01-01",
	    "20220630",
	    "2022-06-30T00:00:00Z",
	};
	int32_t d = 777;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = clock_parse_date(bad[i], &d);
		if (rc != -EINVAL)
			printf("  \"%s\" gave %d\n", bad[i], rc);
		CHECK_INT(rc, -EINVAL);
	}
	CHECK_INT(d, 777);
}

TEST(civil_round_trip)
{
	int y, m, dd;

	/* every day from 1900 to 2100 maps back to itself, in order */
	int32_t first = clock_days_from_civil(1900, 1, 1),
		last = clock_days_from_civil(2100, 12, 31);
	int bad = 0;
	for (int32_t day = first; day <= last; day++) {
		clock_civil_from_days(day, &y, &m, &dd);
		if (clock_days_from_civil(y, m, dd) != day)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(last - first + 1, 73414);
	clock_civil_from_days(day_of("2029-02-28"), &y, &m, &dd);
	CHECK_INT(y, 2029);
	CHECK_INT(m, 2);
	CHECK_INT(dd, 28);
}

TEST(add_months_clamps)
{
	CHECK_STR(fmt(clock_add_months(day_of("2024-02-29"), 60)), "2029-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-02-29"), 48)), "2028-02-29");
	CHECK_STR(fmt(clock_add_months(day_of("2024-02-29"), 12)), "2025-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-03-01"), 60)), "2029-03-01");
	CHECK_STR(fmt(clock_add_months(day_of("2024-01-31"), 1)), "2024-02-29");
	CHECK_STR(fmt(clock_add_months(day_of("2023-01-31"), 1)), "2023-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-01-31"), 13)), "2025-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-01-31"), 2)), "2024-03-31");
	CHECK_STR(fmt(clock_add_months(day_of("2024-01-31"), 3)), "2024-04-30");
	CHECK_STR(fmt(clock_add_months(day_of("2024-03-31"), 1)), "2024-04-30");
	CHECK_STR(fmt(clock_add_months(day_of("2024-08-31"), 1)), "2024-09-30");
	CHECK_STR(fmt(clock_add_months(day_of("2024-10-31"), 4)), "2025-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-11-30"), 1)), "2024-12-30");
	CHECK_STR(fmt(clock_add_months(day_of("2024-12-15"), 1)), "2025-01-15");
	CHECK_STR(fmt(clock_add_months(day_of("2024-12-31"), 12)), "2025-12-31");
	CHECK_STR(fmt(clock_add_months(day_of("2024-12-31"), 14)), "2026-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2021-07-01"), 60)), "2026-07-01");
	CHECK_STR(fmt(clock_add_months(day_of("2022-06-30"), 60)), "2027-06-30");
	CHECK_STR(fmt(clock_add_months(day_of("2022-03-28"), 60)), "2027-03-28");
	CHECK_STR(fmt(clock_add_months(day_of("2000-02-29"), 1200)), "2100-02-28");
	CHECK_STR(fmt(clock_add_months(day_of("2024-05-17"), 0)), "2024-05-17");
}

static void check_bad_retention(const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int mo = -1, rc = clock_parse_retention(bad[i], &mo);
		if (rc != -EINVAL)
			printf("  \"%s\" gave %d (months %d)\n", bad[i], rc, mo);
		CHECK_INT(rc, -EINVAL);
		CHECK_INT(mo, -1);
	}
}

TEST(parse_retention)
{
	static const struct {
		const char *s;
		int months;
	} good[] = {
	    {"5y", 60},	 {"1y", 12},	 {"1m", 1},	  {"6m", 6},
	    {"18m", 18}, {"100y", 1200}, {"1200m", 1200}, {"99y", 1188},
	};
	static const char *const bad[] = {
	    "",	   "y",	  "m",	  "5",	  "5Y",	   "5M",      "5d",  "5w",
	    "0y",  "0m",  "05y",  "-5y",  "+5y",   " 5y",     "5y ", "5 y",
	    "5yy", "5ym", "5.5y", "101y", "1201m", "999999y", "y5",  "99999999999999999999m",
	};
	int mo;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		mo = -1;
		CHECK_INT(clock_parse_retention(good[i].s, &mo), 0);
		CHECK_INT(mo, good[i].months);
	}
	check_bad_retention(bad, sizeof(bad) / sizeof(bad[0]));
}

/* Years whose month count does not fit in a long: refused, never wrapped. (Run
 * last: the wrap is signed overflow, which SANITIZE=1 turns into an abort.) */
TEST(parse_retention_overflow)
{
	static const char *const bad[] = {
	    "9223372036854775807y", "768614336404564651y", /* x12 = 2^63 + 4: wraps negative */
	    "1537228672809129302y",			   /* x12 = 2^64 + 8: wraps to 8 months */
	};

	check_bad_retention(bad, sizeof(bad) / sizeof(bad[0]));
}

/* The UTC instant of the start of a Brussels civil day. */
static int64_t bxl(const char *date)
{
	int64_t t = -1;

	if (clock_day_start(BXL, day_of(date), &t) != 0)
		printf("  helper: clock_day_start(%s) failed\n", date);
	return t;
}

static void check_brussels_days(void)
{
	/* winter (CET, +1) and summer (CEST, +2) */
	CHECK_STR(fmt_utc(bxl("2022-01-15")), "2022-01-14T23:00:00Z");
	CHECK_STR(fmt_utc(bxl("2022-07-01")), "2022-06-30T22:00:00Z");
	CHECK_INT(bxl("2022-07-01"), 1656626400);
	CHECK_STR(fmt_utc(bxl("2021-07-01")), "2021-06-30T22:00:00Z");
	/* 27 March 2022: clocks go 02:00 CET -> 03:00 CEST; midnight is still CET */
	CHECK_STR(fmt_utc(bxl("2022-03-27")), "2022-03-26T23:00:00Z");
	CHECK_INT(bxl("2022-03-27"), 1648335600);
	CHECK_STR(fmt_utc(bxl("2022-03-28")), "2022-03-27T22:00:00Z");
	CHECK_INT(bxl("2022-03-28") - bxl("2022-03-27"), 23 * 3600);
	/* 30 October 2022: 03:00 CEST -> 02:00 CET; midnight is still CEST */
	CHECK_STR(fmt_utc(bxl("2022-10-30")), "2022-10-29T22:00:00Z");
	CHECK_INT(bxl("2022-10-30"), 1667080800);
	CHECK_STR(fmt_utc(bxl("2022-10-31")), "2022-10-30T23:00:00Z");
	CHECK_INT(bxl("2022-10-31") - bxl("2022-10-30"), 25 * 3600);
	/* the deadlines of the mount tests */
	CHECK_STR(fmt_utc(bxl("2027-03-28")), "2027-03-27T23:00:00Z");
	CHECK_STR(fmt_utc(bxl("2029-02-28")), "2029-02-27T23:00:00Z");
	CHECK_STR(fmt_utc(bxl("2029-03-01")), "2029-02-28T23:00:00Z");
}

TEST(day_start_brussels)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	static const char *zones[] = {"UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati",
				      "Europe/Brussels"};

	unsetenv("TZ");
	tzset();
	check_brussels_days();
	/* whatever the process's own zone: the same instants, and TZ is restored */
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		setenv("TZ", zones[i], 1);
		tzset();
		check_brussels_days();
		CHECK_STR(getenv("TZ"), zones[i]);
	}
	unsetenv("TZ");
	tzset();
	check_brussels_days();
	CHECK(getenv("TZ") == NULL);
	if (saved)
		setenv("TZ", saved, 1);
	free(saved);
	tzset();
}

TEST(day_start_other_zones_and_unknown)
{
	int64_t t = 42;

	CHECK_INT(clock_day_start("UTC", day_of("2022-07-01"), &t), 0);
	CHECK_STR(fmt_utc(t), "2022-07-01T00:00:00Z");
	CHECK_INT(clock_day_start("America/New_York", day_of("2022-07-01"), &t), 0);
	CHECK_STR(fmt_utc(t), "2022-07-01T04:00:00Z");
	CHECK_INT(clock_day_start("Asia/Tokyo", day_of("2022-07-01"), &t), 0);
	CHECK_STR(fmt_utc(t), "2022-06-30T15:00:00Z");
	t = 42;
	CHECK_INT(clock_day_start("Europe/Atlantis", day_of("2022-07-01"), &t), -EINVAL);
	CHECK_INT(clock_day_start("", day_of("2022-07-01"), &t), -EINVAL);
	CHECK_INT(clock_day_start("../../etc/passwd", day_of("2022-07-01"), &t), -EINVAL);
	CHECK_INT(clock_day_start("/usr/share/zoneinfo/UTC", day_of("2022-07-01"), &t), -EINVAL);
	CHECK_INT(clock_day_start("Europe", day_of("2022-07-01"), &t), -EINVAL); /* a folder */
	CHECK_INT(t, 42);
	CHECK_INT(clock_tz_check("Europe/Brussels"), 0);
	CHECK_INT(clock_tz_check("Europe/Brussel"), -EINVAL);
}

static int32_t bxl_day(int64_t t)
{
	int32_t d = INT32_MIN;

	if (clock_day_of(BXL, t, &d) != 0)
		printf("  helper: clock_day_of failed\n");
	return d;
}

TEST(day_of_brussels)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	int32_t d = 5;

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	CHECK_STR(fmt(bxl_day(1656626400 - 1)), "2022-06-30"); /* 21:59:59Z */
	CHECK_STR(fmt(bxl_day(1656626400)), "2022-07-01");     /* 22:00:00Z */
	CHECK_STR(fmt(bxl_day(1648335600 - 1)), "2022-03-26");
	CHECK_STR(fmt(bxl_day(1648335600)), "2022-03-27");
	CHECK_STR(fmt(bxl_day(1648418400 - 1)), "2022-03-27");
	CHECK_STR(fmt(bxl_day(1648418400)), "2022-03-28");
	CHECK_STR(fmt(bxl_day(1667080800 - 1)), "2022-10-29");
	CHECK_STR(fmt(bxl_day(1667080800)), "2022-10-30");
	CHECK_STR(fmt(bxl_day(1667170800 - 1)), "2022-10-30"); /* the 25-hour day */
	CHECK_STR(fmt(bxl_day(1667170800)), "2022-10-31");
	CHECK_STR(fmt(bxl_day(0)), "1970-01-01");
	CHECK_STR(getenv("TZ"), "Asia/Tokyo");
	CHECK_INT(clock_day_of("Nowhere/Land", 0, &d), -EINVAL);
	CHECK_INT(d, 5);
	/* day_of(day_start(x)) == x for two years of days */
	int bad = 0;
	for (int32_t x = day_of("2022-01-01"); x <= day_of("2023-12-31"); x++) {
		int64_t t;
		int32_t back = 0;
		if (clock_day_start(BXL, x, &t) != 0 || clock_day_of(BXL, t, &back) != 0 ||
		    back != x || clock_day_of(BXL, t - 1, &back) != 0 || back != x - 1)
			bad++;
	}
	CHECK_INT(bad, 0);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	tzset();
}

TEST(format)
{
	CHECK_STR(fmt(0), "1970-01-01");
	CHECK_STR(fmt(day_of("2029-02-28")), "2029-02-28");
	CHECK_STR(fmt_utc(0), "1970-01-01T00:00:00Z");
	CHECK_STR(fmt_utc(1656626400 - 2), "2022-06-30T21:59:58Z");
}

TEST(now_is_wall_clock)
{
	int64_t a = (int64_t)time(NULL), n = clock_now(), ms = clock_now_ms(),
		b = (int64_t)time(NULL);

	CHECK(n >= a && n <= b);
	CHECK(ms / 1000 >= a && ms / 1000 <= b);
}

static void write_mark(const char *dir, int64_t v)
{
	char path[512], buf[16];
	int fd;

	snprintf(path, sizeof(path), "%s/time.mark", dir);
	memcpy(buf, "PFSTIME1", 8);
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (char)((uint64_t)v >> (8 * i));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, 16) != 16)
		printf("  helper: cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
}

TEST(mark_high_water)
{
	char dir[] = "/tmp/pfs-unit-clock.XXXXXX", path[512], err[256];
	struct clock_mark *m = NULL;
	int64_t behind = -1, now, got;
	struct stat st;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/time.mark", dir);
	CHECK_INT(clock_mark_peek(dir), 0); /* none yet */
	CHECK_INT(clock_mark_open(&m, dir, err, sizeof(err)), 0);
	if (!m)
		return;
	now = clock_now();
	got = clock_mark_now(m, &behind);
	CHECK(got >= now && got <= clock_now());
	CHECK_INT(behind, 0);
	CHECK_INT(clock_mark_save(m), 0);
	CHECK(clock_mark_peek(dir) >= now);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(st.st_size, 16);
	clock_mark_close(m);

	/* a mark one day ahead of the wall clock: kept, and the lag is reported */
	now = clock_now();
	write_mark(dir, now + 86400);
	CHECK_INT(clock_mark_peek(dir), now + 86400);
	m = NULL;
	CHECK_INT(clock_mark_open(&m, dir, err, sizeof(err)), 0);
	if (!m)
		return;
	got = clock_mark_now(m, &behind);
	CHECK_INT(got, now + 86400);
	CHECK(behind >= 86400 - 2 && behind <= 86400);
	clock_mark_close(m);
	CHECK_INT(clock_mark_peek(dir), now + 86400); /* never moved back */

	/* a damaged mark file reads as none (never as a future or garbage time) */
	int fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "garbage", 7) == 7);
	if (fd >= 0)
		close(fd);
	CHECK_INT(clock_mark_peek(dir), 0);

	/* a state_dir that does not exist: an error naming the file */
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	m = NULL;
	err[0] = 0;
	CHECK_INT(clock_mark_open(&m, missing, err, sizeof(err)), -ENOENT);
	CHECK(m == NULL);
	CHECK(strstr(err, "nope/time.mark") != NULL);
	CHECK_INT(clock_mark_peek(missing), 0);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(parse_date_valid);
	RUN(parse_date_leap_days);
	RUN(parse_date_junk);
	RUN(civil_round_trip);
	RUN(add_months_clamps);
	RUN(parse_retention);
	RUN(day_start_brussels);
	RUN(day_start_other_zones_and_unknown);
	RUN(day_of_brussels);
	RUN(format);
	RUN(now_is_wall_clock);
	RUN(mark_high_water);
	RUN(parse_retention_overflow);
	UNIT_EXIT();
}
