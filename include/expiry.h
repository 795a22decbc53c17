/* expiry.h — when each record may be seen (Art. 2, 5, 12).
 *
 * A record is visible while now lies inside the protocol window (from the start
 * of its first day to the end of its last, in the dataset's time zone, across
 * daylight-saving changes) and before its retention deadline (the start of the
 * civil day shared_on + retention). Instants are computed once at load, so a
 * visibility check is two comparisons. Immutable after expiry_new; thread-safe. */
#ifndef PFS_EXPIRY_H
#define PFS_EXPIRY_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

struct expiry;

int expiry_new(struct expiry **e, const struct dataset *ds, char *err, size_t errlen);
void expiry_free(struct expiry *e);

/* The protocol window as UTC instants: [start, end). */
int64_t expiry_window_start(const struct expiry *e);
int64_t expiry_window_end(const struct expiry *e);

/* Is record i visible at now? Purged records never are. */
bool expiry_visible(const struct expiry *e, size_t i, int64_t now);

/* The instant record i disappears, and why: "retention", "protocol end" or
 * "termination". */
int64_t expiry_record_end(const struct expiry *e, size_t i);
const char *expiry_record_reason(const struct expiry *e, size_t i);

/* Records visible at now, and the next instant after now at which a visible record
 * disappears (INT64_MAX when none will). O(log records). */
size_t expiry_scan(const struct expiry *e, int64_t now, int64_t *next);

/* Is the protocol in force at now (inside the window, before any termination)?
 * 0, or -EACCES with a message giving the date it starts, ended, or was
 * terminated from. t are the dataset's terms the expiry was built from. */
int expiry_in_force(const struct expiry *e, const struct dataset_terms *t, int64_t now, char *err,
		    size_t errlen);

/* A termination notice (Art. 8, 12): from instant at, nothing is visible. Only
 * ever moves earlier. Safe to call while other threads read. */
void expiry_terminate(struct expiry *e, int64_t at);
int64_t expiry_termination(const struct expiry *e); /* INT64_MAX when none */

/* Call fn for every record that was visible at `from`, when the termination
 * instant in force was was_term (for the usual pass: expiry_termination(e)), and
 * is no longer visible at `to` (from < to), in order of their deadlines; returns how many. A
 * termination learnt after the fact (its instant at or before from) thus still reports what it
 * ended. Cost: the records concerned plus a binary search. */
size_t expiry_ended(const struct expiry *e, int64_t from, int64_t was_term, int64_t to,
		    void (*fn)(void *arg, size_t rec), void *arg);

/* The records that may no longer be kept at now: present, and their retention
 * deadline, the protocol end or a termination has passed. The one rule for purge
 * = auto, `protocolfs purge`, `check` and `inspect`. Sets drop[i] = 1 for each
 * when drop is not NULL (drop holds one byte per record); returns how many. */
size_t expiry_purgeable(const struct expiry *e, int64_t now, uint8_t *drop);

#endif
