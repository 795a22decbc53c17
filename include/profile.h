/* profile.h — resolving a caller to at most one function profile (Art. 4, 6).
 *
 * A caller matches a profile when its uid is listed there, or its primary gid or
 * one of its supplementary groups is. A caller matching none gets nothing; one
 * matching two is refused (fail closed), although config_load already rejects
 * configurations where a user of the account database could. Thread-safe. */
#ifndef PFS_PROFILE_H
#define PFS_PROFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

#define PROFILE_NONE	  (-1) /* no profile: EACCES */
#define PROFILE_AMBIGUOUS (-2) /* two profiles: EACCES, and worth an audit line */

/* The index of the caller's profile in cfg->profiles, or PROFILE_NONE or
 * PROFILE_AMBIGUOUS. groups may be NULL when cfg->uses_groups is false. */
int profile_resolve(const struct config *cfg, uid_t uid, gid_t gid, const gid_t *groups,
		    size_t ngroups);

#endif
