/* clock.c — wall clock and civil dates (see clock.h).
 *
 * Time-zone conversions use the C library's zone database by switching TZ under
 * a mutex and restoring it; they are rare (load time, deadlines), never per read. */
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t clock_tz_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's days_from_civil. */
int32_t clock_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int)doe - 719468);
}

void clock_civil_from_days(int32_t z0, int *y, int *m, int *d)
{
	int z = z0 + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)yoe + era * 400 + (*m <= 2);
}

static int clock_month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 ? 28 + leap : days[m - 1];
}

int clock_parse_date(const char *s, int32_t *day)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > clock_month_days(y, m))
		return -EINVAL;
	*day = clock_days_from_civil(y, m, d);
	return 0;
}

void clock_format_date(int32_t day, char out[CLOCK_DATE_LEN])
{
	int y, m, d;

	char tmp[48];

	clock_civil_from_days(day, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
	memcpy(out, tmp, CLOCK_DATE_LEN - 1); /* years are 1900-9999 by construction */
	out[CLOCK_DATE_LEN - 1] = 0;
}

int32_t clock_add_months(int32_t day, int months)
{
	int y, m, d, mdays;

	clock_civil_from_days(day, &y, &m, &d);
	m += months;
	y += (m - 1) / 12;
	m = (m - 1) % 12 + 1;
	mdays = clock_month_days(y, m);
	return clock_days_from_civil(y, m, d > mdays ? mdays : d);
}

int clock_parse_retention(const char *s, int *months)
{
	char *end;
	long n;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || n > 1200 || (end[0] != 'y' && end[0] != 'm') || end[1] != 0)
		return -EINVAL;
	if (end[0] == 'y')
		n *= 12; /* n <= 1200: no overflow */
	if (n < 1 || n > 1200)
		return -EINVAL;
	*months = (int)n;
	return 0;
}

int clock_tz_adopt(const char *tz)
{
	if (clock_tz_check(tz) < 0)
		return -EINVAL;
	pthread_mutex_lock(&clock_tz_lock);
	setenv("TZ", tz, 1);
	tzset();
	pthread_mutex_unlock(&clock_tz_lock);
	return 0;
}

int clock_tz_check(const char *tz)
{
	char path[512];
	struct stat st;

	if (!*tz || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 200)
		return -EINVAL;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

/* Run fn with TZ set to tz; restores the previous TZ. */
static int clock_with_tz(const char *tz, void (*fn)(void *), void *arg)
{
	char *old = NULL;
	const char *cur;

	if (clock_tz_check(tz) < 0)
		return -EINVAL;
	pthread_mutex_lock(&clock_tz_lock);
	cur = getenv("TZ");
	if (cur && strcmp(cur, tz) == 0) {
		/* already the process's zone (clock_tz_adopt): no environment writes,
		 * which other threads' getenv (syslog, localtime) could race with */
		fn(arg);
		pthread_mutex_unlock(&clock_tz_lock);
		return 0;
	}
	old = cur ? strdup(cur) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	fn(arg);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&clock_tz_lock);
	free(old);
	return 0;
}

struct clock_conv {
	int32_t day;
	int64_t t;
};

static void clock_day_start_fn(void *arg)
{
	struct clock_conv *c = arg;
	struct tm tm = {0};
	int y, m, d;

	clock_civil_from_days(c->day, &y, &m, &d);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	c->t = (int64_t)mktime(&tm);
}

static void clock_day_of_fn(void *arg)
{
	struct clock_conv *c = arg;
	struct tm tm;
	time_t t = (time_t)c->t;

	localtime_r(&t, &tm);
	c->day = clock_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int clock_day_start(const char *tz, int32_t day, int64_t *utc)
{
	struct clock_conv c = {.day = day};
	int rc = clock_with_tz(tz, clock_day_start_fn, &c);

	if (rc == 0)
		*utc = c.t;
	return rc;
}

int clock_day_of(const char *tz, int64_t t, int32_t *day)
{
	struct clock_conv c = {.t = t};
	int rc = clock_with_tz(tz, clock_day_of_fn, &c);

	if (rc == 0)
		*day = c.day;
	return rc;
}

void clock_format_utc(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	char tmp[96];

	gmtime_r(&tt, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, 20);
	out[20] = 0;
}

/* ---------------------------------------------------------------- mark */

#define MARK_MAGIC "PFSTIME1"

struct clock_mark {
	_Atomic int64_t mark;
	int fd;
};

static int64_t clock_mark_read(int fd)
{
	char buf[16];

	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf) || memcmp(buf, MARK_MAGIC, 8) != 0)
		return 0;
	return (int64_t)((uint64_t)(unsigned char)buf[8] | (uint64_t)(unsigned char)buf[9] << 8 |
			 (uint64_t)(unsigned char)buf[10] << 16 |
			 (uint64_t)(unsigned char)buf[11] << 24 |
			 (uint64_t)(unsigned char)buf[12] << 32 |
			 (uint64_t)(unsigned char)buf[13] << 40 |
			 (uint64_t)(unsigned char)buf[14] << 48 |
			 (uint64_t)(unsigned char)buf[15] << 56);
}

/* Fail closed: only an empty file (just created) is "no mark yet"; anything else
 * that is not a mark would reset the guard against a clock set back. */
static int clock_mark_check(int fd, const char *path, struct stat *st, char *err, size_t errlen)
{
	char buf[16];

	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		util_errf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (util_owner_check(st, path, err, errlen) < 0)
		return -EINVAL;
	if (st->st_size != 0 &&
	    (st->st_size != 16 || pread(fd, buf, sizeof(buf), 0) != sizeof(buf) ||
	     memcmp(buf, MARK_MAGIC, 8) != 0)) {
		util_errf(err, errlen, "%s: malformed (not a protocolfs time mark)", path);
		return -EINVAL;
	}
	return 0;
}

int clock_mark_open(struct clock_mark **out, const char *state_dir, char *err, size_t errlen)
{
	struct clock_mark *m = calloc(1, sizeof(*m));
	char path[4096];

	*out = NULL;
	if (!m)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/time.mark", state_dir);
	m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (m->fd < 0) {
		int e = errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(m);
		return -e;
	}
	struct stat st;
	int rc = clock_mark_check(m->fd, path, &st, err, errlen);
	if (rc < 0) {
		close(m->fd);
		free(m);
		return rc;
	}
	atomic_store(&m->mark, st.st_size ? clock_mark_read(m->fd) : 0);
	*out = m;
	return 0;
}

int64_t clock_mark_now(struct clock_mark *m, int64_t *behind)
{
	int64_t now = clock_now(), mark = atomic_load(&m->mark);

	while (now > mark && !atomic_compare_exchange_weak(&m->mark, &mark, now))
		;
	if (behind)
		*behind = mark > now ? mark - now : 0;
	return now > mark ? now : mark;
}

int clock_mark_save(struct clock_mark *m)
{
	char buf[16];
	uint64_t v = (uint64_t)atomic_load(&m->mark);

	memcpy(buf, MARK_MAGIC, 8);
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (char)(v >> (8 * i));
	return pwrite(m->fd, buf, sizeof(buf), 0) == sizeof(buf) ? 0 : -EIO;
}

void clock_mark_close(struct clock_mark *m)
{
	if (!m)
		return;
	clock_mark_save(m);
	fsync(m->fd);
	close(m->fd);
	free(m);
}

int64_t clock_mark_peek(const char *state_dir)
{
	char path[4096];
	int64_t v;
	int fd;

	snprintf(path, sizeof(path), "%s/time.mark", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	v = clock_mark_read(fd);
	close(fd);
	return v;
}
