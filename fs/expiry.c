/* expiry.c — visibility instants (see expiry.h). */
#include "expiry.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

struct expiry {
	int64_t start_at, end_at; /* protocol window [start_at, end_at) */
	_Atomic int64_t term_at;  /* termination notice; INT64_MAX when none */
	size_t n, npresent;
	int64_t *until;	       /* per record: min(retention deadline, end_at); 0 when purged */
	uint8_t *by_retention; /* per record: 1 when the deadline comes before the protocol end */
	size_t *order;	       /* present records, by until (then index) */
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

static int expiry_by_until(const void *a, const void *b, void *arg)
{
	const int64_t *until = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (until[x] != until[y])
		return until[x] < until[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Present records by their end, so that the deadline thread and the counts of
 * visible records need a binary search, not a scan. */
static void expiry_order_sort(struct expiry *e)
{
	qsort_r(e->order, e->npresent, sizeof(size_t), expiry_by_until, e->until);
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
	e->order = calloc(e->n ? e->n : 1, sizeof(size_t));
	if (!e->until || !e->by_retention || !e->order)
		goto fail;
	atomic_store(&e->term_at, INT64_MAX);
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
		e->order[e->npresent++] = i;
	}
	expiry_order_sort(e);
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
	free(e->order);
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
	return i < e->n && now >= e->start_at && now < e->until[i] &&
	       now < atomic_load_explicit(&e->term_at, memory_order_relaxed);
}

int64_t expiry_record_end(const struct expiry *e, size_t i)
{
	int64_t t = atomic_load(&e->term_at);

	return t < e->until[i] ? t : e->until[i];
}

const char *expiry_record_reason(const struct expiry *e, size_t i)
{
	if (atomic_load(&e->term_at) < e->until[i])
		return "termination";
	return e->by_retention[i] ? "retention" : "protocol end";
}

/* First position in order whose until is > t. */
static size_t expiry_first_after(const struct expiry *e, int64_t t)
{
	size_t lo = 0, hi = e->npresent;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->until[e->order[mid]] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t expiry_scan(const struct expiry *e, int64_t now, int64_t *next)
{
	int64_t term = atomic_load(&e->term_at);
	size_t pos;

	*next = INT64_MAX;
	if (now < e->start_at || now >= term)
		return 0;
	pos = expiry_first_after(e, now);
	if (pos < e->npresent)
		*next = e->until[e->order[pos]] < term ? e->until[e->order[pos]] : term;
	return e->npresent - pos;
}

int expiry_in_force(const struct expiry *e, const struct dataset_terms *t, int64_t now, char *err,
		    size_t errlen)
{
	char d[CLOCK_DATE_LEN], when[21];

	if (now < e->start_at) {
		clock_format_date(t->start_day, d);
		util_errf(err, errlen, "protocol %s starts on %s (%s): nothing may be served yet",
			  t->protocol_id, d, t->timezone);
		return -EACCES;
	}
	if (now >= e->end_at) {
		clock_format_date(t->end_day, d);
		util_errf(err, errlen, "protocol %s ended on %s (%s): nothing may be served",
			  t->protocol_id, d, t->timezone);
		return -EACCES;
	}
	if (now >= atomic_load(&e->term_at)) {
		clock_format_utc(atomic_load(&e->term_at), when);
		util_errf(err, errlen, "protocol %s was terminated by notice from %s",
			  t->protocol_id, when);
		return -EACCES;
	}
	return 0;
}

void expiry_terminate(struct expiry *e, int64_t at)
{
	int64_t cur = atomic_load(&e->term_at);

	while (at < cur && !atomic_compare_exchange_weak(&e->term_at, &cur, at))
		;
}

int64_t expiry_termination(const struct expiry *e)
{
	return atomic_load(&e->term_at);
}

size_t expiry_ended(const struct expiry *e, int64_t from, int64_t was_term, int64_t to,
		    void (*fn)(void *arg, size_t rec), void *arg)
{
	int64_t term = atomic_load(&e->term_at);
	size_t pos, end, count = 0;

	if (from >= was_term || to < e->start_at)
		return 0; /* nothing was visible at from */
	pos = expiry_first_after(e, from < e->start_at ? e->start_at : from);
	/* A termination at or before `to` ends every record still visible. */
	end = term <= to ? e->npresent : expiry_first_after(e, to);
	for (; pos < end; pos++, count++)
		fn(arg, e->order[pos]);
	return count;
}

size_t expiry_purgeable(const struct expiry *e, int64_t now, uint8_t *drop)
{
	size_t end = atomic_load(&e->term_at) <= now ? e->npresent : expiry_first_after(e, now);

	for (size_t pos = 0; drop && pos < end; pos++)
		drop[e->order[pos]] = 1;
	return end;
}
