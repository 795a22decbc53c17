/* service.h — everything the recipient side serves, loaded and verified as one:
 * config, issuer key, dataset (signature and every record digest), profiles bound
 * to the signed field list, the recipient key (only long enough to open the file
 * key), and the visibility instants. Used by `check` and by the daemon, so both
 * refuse exactly the same inputs. Nothing partial: on error *svc is NULL. */
#ifndef PFS_SERVICE_H
#define PFS_SERVICE_H

#include <stddef.h>

#include "config.h"
#include "dataset.h"
#include "expiry.h"

struct service {
	struct config *cfg;
	struct dataset *ds;
	struct expiry *exp;
};

int service_open(struct service **svc, const char *config_path, char *err, size_t errlen);

/* Frees everything; the file key is wiped. NULL is fine. */
void service_close(struct service *svc);

#endif
