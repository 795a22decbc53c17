/* expiry.c — visibility instants (see expiry.h). */
#include "expiry.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

struct expiry {
	int64_t start_at, end_at; /* protocol window [start_at, end_at) */
	size_t n;
	int64_t *until;          /* per record: min(retention deadline, end_at); 0 when purged */
	uint8_t *by_retention;   /* per record: 1 when the deadline comes before the protocol end */
};

/* Civil day -> instant, memoised over the range of deadlines (few distinct days). */
struct expiry_days {
	int32_t lo, hi;
	int64_t *at;
};

static int expiry_days_fill(struct expiry_days *d, const struct dataset *ds, const char *tz)
{
	d->lo = INT32_MAX;
	d->hi = INT32_MIN;
	for (size_t i = 0; i < dataset_count(ds); i++) {
		int32_t day = dataset_record_deadline(ds, i);
		d->lo = day < d->lo ? day : d->lo;
		d->hi = day > d->hi ? day : d->hi;
	}
	if (d->lo > d->hi)
		return 0;
	d->at = calloc((size_t)(d->hi - d->lo + 1), sizeof(int64_t));
	if (!d->at)
		return -ENOMEM;
	for (int32_t day = d->lo; day <= d->hi; day++)
		if (clock_day_start(tz, day, &d->at[day - d->lo]) < 0)
			return -EINVAL;
	return 0;
}

int expiry_new(struct expiry **out, const struct dataset *ds, char *err, size_t errlen)
{
	const struct dataset_terms *t = dataset_terms(ds);
	struct expiry *e = calloc(1, sizeof(*e));
	struct expiry_days d = {0};
	int rc = -ENOMEM;

	*out = NULL;
	if (!e)
		goto fail;
	e->n = dataset_count(ds);
	e->until = calloc(e->n ? e->n : 1, sizeof(int64_t));
	e->by_retention = calloc(e->n ? e->n : 1, 1);
	if (!e->until || !e->by_retention)
		goto fail;
	rc = clock_day_start(t->timezone, t->start_day, &e->start_at);
	if (rc == 0)
		rc = clock_day_start(t->timezone, t->end_day + 1, &e->end_at);
	if (rc == 0)
		rc = expiry_days_fill(&d, ds, t->timezone);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < e->n; i++) {
		int64_t dl;
		if (!dataset_record_is_present(ds, i))
			continue;
		dl = d.at[dataset_record_deadline(ds, i) - d.lo];
		e->by_retention[i] = dl < e->end_at;
		e->until[i] = dl < e->end_at ? dl : e->end_at;
	}
	free(d.at);
	*out = e;
	return 0;
fail:
	util_errf(err, errlen, rc == -ENOMEM ? "out of memory" : "time zone %s: unknown",
		  t->timezone);
	free(d.at);
	expiry_free(e);
	return rc;
}

void expiry_free(struct expiry *e)
{
	if (!e)
		return;
	free(e->until);
	free(e->by_retention);
	free(e);
}

int64_t expiry_window_start(const struct expiry *e)
{
	return e->start_at;
}

int64_t expiry_window_end(const struct expiry *e)
{
	return e->end_at;
}

bool expiry_visible(const struct expiry *e, size_t i, int64_t now)
{
	return i < e->n && now >= e->start_at && now < e->until[i];
}

int64_t expiry_record_end(const struct expiry *e, size_t i)
{
	return e->until[i];
}

const char *expiry_record_reason(const struct expiry *e, size_t i)
{
	return e->by_retention[i] ? "retention" : "protocol end";
}

size_t expiry_scan(const struct expiry *e, int64_t now, int64_t *next)
{
	size_t visible = 0;

	*next = INT64_MAX;
	for (size_t i = 0; i < e->n; i++) {
		if (!expiry_visible(e, i, now))
			continue;
		visible++;
		if (e->until[i] < *next)
			*next = e->until[i];
	}
	return visible;
}
