/* profile.c — caller to profile (see profile.h). */
#include "profile.h"

static bool profile_has_uid(const struct config_profile *p, uid_t uid)
{
	for (size_t i = 0; i < p->nuids; i++)
		if (p->uids[i] == uid)
			return true;
	return false;
}

static bool profile_has_gid(const struct config_profile *p, gid_t gid, const gid_t *groups,
			    size_t ngroups)
{
	for (size_t i = 0; i < p->ngids; i++) {
		if (p->gids[i] == gid)
			return true;
		for (size_t g = 0; g < ngroups; g++)
			if (p->gids[i] == groups[g])
				return true;
	}
	return false;
}

int profile_resolve(const struct config *cfg, uid_t uid, gid_t gid, const gid_t *groups,
		    size_t ngroups)
{
	int found = PROFILE_NONE;

	for (size_t p = 0; p < cfg->nprofiles; p++) {
		const struct config_profile *pr = &cfg->profiles[p];
		if (!profile_has_uid(pr, uid) && !profile_has_gid(pr, gid, groups, ngroups))
			continue;
		if (found != PROFILE_NONE)
			return PROFILE_AMBIGUOUS;
		found = (int)p;
	}
	return found;
}
