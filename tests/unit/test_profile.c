/* test_profile.c — caller to profile (profile.h): by uid, by primary gid, by a
 * supplementary group, no match, two matches refused as ambiguous, and a user
 * named in the config resolved through config_load to the same answer. The
 * caller's groups are passed in, so no account needs to exist. */
#include "config.h"
#include "profile.h"
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct config *cfg;
static uid_t uids_a[] = {5001, 5002}, uids_b[] = {5003};
static gid_t gids_b[] = {6001}, gids_c[] = {6002, 6003};

/* Profiles: a (uids 5001, 5002), b (uid 5003, gid 6001), c (gids 6002, 6003),
 * d (nobody). */
static void setup(void)
{
	cfg = calloc(1, sizeof(*cfg));
	cfg->nprofiles = 4;
	strcpy(cfg->profiles[0].name, "a");
	cfg->profiles[0].uids = uids_a;
	cfg->profiles[0].nuids = 2;
	strcpy(cfg->profiles[1].name, "b");
	cfg->profiles[1].uids = uids_b;
	cfg->profiles[1].nuids = 1;
	cfg->profiles[1].gids = gids_b;
	cfg->profiles[1].ngids = 1;
	strcpy(cfg->profiles[2].name, "c");
	cfg->profiles[2].gids = gids_c;
	cfg->profiles[2].ngids = 2;
	strcpy(cfg->profiles[3].name, "d");
	cfg->uses_groups = true;
}

TEST(by_uid)
{
	CHECK_INT(profile_resolve(cfg, 5001, 100, NULL, 0), 0);
	CHECK_INT(profile_resolve(cfg, 5002, 100, NULL, 0), 0);
	CHECK_INT(profile_resolve(cfg, 5003, 100, NULL, 0), 1);
}

TEST(by_primary_gid)
{
	CHECK_INT(profile_resolve(cfg, 7000, 6001, NULL, 0), 1);
	CHECK_INT(profile_resolve(cfg, 7000, 6003, NULL, 0), 2);
}

TEST(by_supplementary_group)
{
	gid_t g1[] = {100, 200, 6002};
	gid_t g2[] = {6001};

	CHECK_INT(profile_resolve(cfg, 7000, 100, g1, 3), 2);
	CHECK_INT(profile_resolve(cfg, 7000, 100, g2, 1), 1);
	/* only the first ngroups entries count */
	CHECK_INT(profile_resolve(cfg, 7000, 100, g1, 2), PROFILE_NONE);
}

TEST(no_profile)
{
	gid_t g[] = {100, 200};

	CHECK_INT(profile_resolve(cfg, 7000, 100, g, 2), PROFILE_NONE);
	CHECK_INT(profile_resolve(cfg, 0, 0, NULL, 0), PROFILE_NONE);
	/* a uid equal to a listed gid is not a match: uids and gids are apart */
	CHECK_INT(profile_resolve(cfg, 6001, 100, NULL, 0), PROFILE_NONE);
	CHECK_INT(profile_resolve(cfg, 7000, 5001, NULL, 0), PROFILE_NONE);
}

TEST(two_profiles_are_ambiguous)
{
	gid_t g1[] = {6002};
	gid_t g2[] = {6001, 6003};

	/* uid in a, supplementary group of c */
	CHECK_INT(profile_resolve(cfg, 5001, 100, g1, 1), PROFILE_AMBIGUOUS);
	/* primary gid of b, uid of a */
	CHECK_INT(profile_resolve(cfg, 5001, 6001, NULL, 0), PROFILE_AMBIGUOUS);
	/* two supplementary groups of b and c */
	CHECK_INT(profile_resolve(cfg, 7000, 100, g2, 2), PROFILE_AMBIGUOUS);
	/* primary gid of c, supplementary group of b */
	CHECK_INT(profile_resolve(cfg, 7000, 6002, g2, 1), PROFILE_AMBIGUOUS);
}

TEST(one_profile_matched_twice_is_not_ambiguous)
{
	gid_t g[] = {6001, 6001};

	CHECK_INT(profile_resolve(cfg, 5003, 6001, g, 2), 1);
	CHECK_INT(profile_resolve(cfg, 7000, 6002, (gid_t[]){6003}, 1), 2);
}

TEST(no_profiles_at_all)
{
	struct config *empty = calloc(1, sizeof(*empty));

	CHECK_INT(profile_resolve(empty, 5001, 6001, NULL, 0), PROFILE_NONE);
	free(empty);
}

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("  helper: cannot write %s\n", p);
	if (fd >= 0)
		close(fd);
}

/* A config naming users and groups by name and number, loaded for real. */
TEST(by_user_name_through_config_load)
{
	char dir[] = "/tmp/pfs-unit-prof.XXXXXX", p[PATH_MAX], err[1024] = "", cmd[128];
	struct config *c = NULL;
	gid_t g[] = {6101};

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	put(dir, "d", "d", 0644);
	put(dir, "k", "k", 0600);
	snprintf(p, sizeof(p), "%s/s", dir);
	mkdir(p, 0755);
	put(dir, "c.ini",
	    "[dataset]\npath = d\nissuer_key = d\nrecipient_key = k\nstate_dir = s\n"
	    "[audit]\nlog = l\nverify_key = v\n"
	    "[profile:admin]\nfields = x\nusers = root\n"
	    "[profile:clerk]\nfields = x\nusers = 5001\ngroups = 6101\n",
	    0644);
	snprintf(p, sizeof(p), "%s/c.ini", dir);
	CHECK_INT(config_load(&c, p, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	if (c) {
		CHECK_INT(profile_resolve(c, 0, 0, NULL, 0), 0);
		CHECK_INT(profile_resolve(c, 5001, 100, NULL, 0), 1);
		CHECK_INT(profile_resolve(c, 7000, 100, g, 1), 1);
		CHECK_INT(profile_resolve(c, 7000, 100, NULL, 0), PROFILE_NONE);
		CHECK(c->uses_groups);
	}
	config_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	setup();
	RUN(by_uid);
	RUN(by_primary_gid);
	RUN(by_supplementary_group);
	RUN(no_profile);
	RUN(two_profiles_are_ambiguous);
	RUN(one_profile_matched_twice_is_not_ambiguous);
	RUN(no_profiles_at_all);
	RUN(by_user_name_through_config_load);
	free(cfg);
	UNIT_EXIT();
}
