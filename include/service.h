/* service.h — everything the recipient side serves, loaded and verified as one:
 * config, issuer key, dataset (signature and every record digest), profiles bound
 * to the signed field list, the recipient key (only long enough to open the file
 * key), and the visibility instants. Used by `check` and by the daemon, so both
 * refuse exactly the same inputs. Nothing partial: on error *svc is NULL. */
#ifndef PFS_SERVICE_H
#define PFS_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "config.h"
#include "dataset.h"
#include "expiry.h"
#include "keys.h"

struct service {
	struct config *cfg;
	struct dataset *ds;
	struct expiry *exp;
	struct keys_public issuer;
};

int service_open(struct service **svc, const char *config_path, char *err, size_t errlen);

/* The audit options a config gives (the daemon's log and `protocolfs purge`'s
 * line into it): the one mapping from [audit] and state_dir. The strings point
 * into c. */
void service_audit_opts(const struct config *c, struct audit_opts *o);

/* Versioned (Art. 7): the highest dataset serial accepted so far is kept in
 * state_dir/dataset.serial ("serial N\n"). service_serial_check refuses a dataset
 * older than it (-ESTALE); service_serial_store records the dataset's serial as
 * accepted. Only an absent file means "none yet": one that is malformed,
 * unreadable, a symlink, not a regular file or writable by others is refused
 * with a message naming it (fail closed: never read as serial 0). */
int service_serial_check(const struct service *svc, char *err, size_t errlen);
int service_serial_store(const struct service *svc, char *err, size_t errlen);

/* Which loaded service may replace the mounted one (Art. 7), decided here for
 * the daemon's reloads. *kind says what changed:
 *   SERVICE_NEWER   a dataset with a higher serial (the config may change too);
 *   SERVICE_PURGED  the same dataset (uuid, serial, count) with records cut out;
 *   SERVICE_CONFIG  the same dataset, a different config (profiles, users,
 *                   fields, labels): a revocation takes effect without a new
 *                   dataset.
 * Anything else is refused with a message: -ESTALE for an equal or lower serial
 * that is another dataset or a rollback below the accepted serial, -EBUSY for a
 * key only a restart applies, -EALREADY when nothing changed at all (the SIGHUP
 * of a log rotation: not an error). */
enum service_change { SERVICE_NEWER, SERVICE_PURGED, SERVICE_CONFIG };

int service_successor(const struct service *cur, const struct service *next,
		      enum service_change *kind, char *err, size_t errlen);

/* Termination notices (Art. 8, 12) in cfg->notices_dir. Each regular file not yet
 * in seen is read once (opened O_NOFOLLOW|O_NONBLOCK, so a read never waits): a
 * valid notice for this protocol moves the expiry's termination earlier and, when
 * seen->record, is recorded in state_dir/termination, which every later service_open honours
 * whatever became of the notice file; report is called for every new file (a
 * symlink or other non-regular entry included, as refused) with its result (0,
 * or a negative errno and a message) and the instant it takes effect. seen grows
 * as needed (a zeroed struct is empty); service_seen_free releases it. */
struct service_seen_file {
	char name[256];
	unsigned long long ino; /* with mtime and size: a replaced file is read again */
	long long mtime, mtime_ns, size;
};
struct service_seen {
	struct service_seen_file *file;
	size_t n, cap;
	bool record; /* the daemon: store accepted terminations (check only reports) */
};

void service_seen_free(struct service_seen *seen);
void service_notices(struct service *svc, struct service_seen *seen,
		     void (*report)(void *arg, const char *file, int rc, int64_t at,
				    const char *msg),
		     void *arg);

/* Frees everything; the file key is wiped. NULL is fine. */
void service_close(struct service *svc);

#endif
