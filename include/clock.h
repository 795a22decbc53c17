/* clock.h — the one place protocolfs reads the wall clock, and civil-date
 * arithmetic for the protocol's dates (Belgian civil dates, Art. 2, 5, 12).
 *
 * A "day" is a civil date counted as days since 1970-01-01 (proleptic Gregorian).
 * Retention arithmetic is conservative: adding months to the 29th-31st of a month
 * clamps to the last day of the target month, so 2024-02-29 + 5 years is
 * 2029-02-28, never 1 March. Thread-safe unless noted. */
#ifndef PFS_CLOCK_H
#define PFS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */

/* Wall-clock time in seconds since the epoch (UTC). Every decision that depends
 * on the time of day goes through here, so tests can move it with libfaketime. */
int64_t clock_now(void);

/* The same clock in milliseconds (audit timestamps). */
int64_t clock_now_ms(void);

/* The monotonic clock in milliseconds: for rates and intervals (rate limits, the
 * caller memo, cache ages), never for deadlines. Not moved by libfaketime with
 * FAKETIME_DONT_FAKE_MONOTONIC. */
int64_t clock_mono_ms(void);

/* Parse exactly "YYYY-MM-DD" (years 1900-9999, a real calendar date). 0 or -EINVAL. */
int clock_parse_date(const char *s, int32_t *day);

void clock_format_date(int32_t day, char out[CLOCK_DATE_LEN]);

int32_t clock_days_from_civil(int y, int m, int d);
void clock_civil_from_days(int32_t day, int *y, int *m, int *d);

/* day + months, clamped to the end of the target month. */
int32_t clock_add_months(int32_t day, int months);

/* Parse a retention period "Ny" or "Nm" (N 1..1200 in months) into months. */
int clock_parse_retention(const char *s, int *months);

/* The UTC instant at which civil day `day` begins in time zone tz (an IANA name
 * such as "Europe/Brussels"), and the civil date of instant t in tz. -EINVAL when
 * tz is unknown. Serialised internally (they switch TZ under a lock). */
int clock_day_start(const char *tz, int32_t day, int64_t *utc);
int clock_day_of(const char *tz, int64_t t, int32_t *day);

/* Make tz the process's time zone, once, before threads start (the daemon):
 * later conversions in that zone then never write the environment. */
int clock_tz_adopt(const char *tz);

/* 0 when tz names a zone this machine knows (a file under /usr/share/zoneinfo). */
int clock_tz_check(const char *tz);

/* The high-water mark of time (Art. 2, 5: a clock set back must resurrect
 * nothing). clock_mark_now returns max(clock_now(), the highest time seen, the
 * persisted mark) and says when the wall clock is behind it; clock_mark_save
 * writes the mark to state_dir/time.mark (0600). Thread-safe. */
struct clock_mark;

int clock_mark_open(struct clock_mark **m, const char *state_dir, char *err, size_t errlen);
int64_t clock_mark_now(struct clock_mark *m, int64_t *behind);
int clock_mark_save(struct clock_mark *m);
void clock_mark_close(struct clock_mark *m);

/* The persisted mark in state_dir without opening it for writing (0 if none). */
int64_t clock_mark_peek(const char *state_dir);

/* Format instant t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out[21]. */
void clock_format_utc(int64_t t, char out[21]);

#endif
