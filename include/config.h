/* config.h — the city's INI configuration, validated as a whole before use.
 *
 * Enforces Art. 4 (a current list of function profiles with access) and Art. 6
 * (need to know, separation of duties): every section and key is checked against
 * a schema table; a user or group that would match two profiles is an error, not a
 * silent union; a profile may only name fields the issuer signed. Errors name
 * file, section and key. Relative paths are taken from the config file's folder.
 *
 * A loaded config is immutable and may be shared by threads. */
#ifndef PFS_CONFIG_H
#define PFS_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dataset.h"

#define CONFIG_PROFILES_MAX 64
#define CONFIG_NAME_MAX	    64
#define CONFIG_TEXT_MAX	    512
#define CONFIG_DIGEST_BYTES 32

struct config_profile {
	char name[CONFIG_NAME_MAX + 1];
	char description[CONFIG_TEXT_MAX];
	char users_text[CONFIG_TEXT_MAX]; /* as written, for `protocolfs profiles` */
	char groups_text[CONFIG_TEXT_MAX];
	unsigned nfields;		    /* fields the profile may see, in dataset order */
	unsigned field[DATASET_FIELDS_MAX]; /* indices into the dataset's field list */
	char field_name[DATASET_FIELDS_MAX][DATASET_FIELD_NAME_MAX + 1]; /* as written */
	uid_t *uids;
	size_t nuids;
	gid_t *gids;
	size_t ngids;
};

struct config {
	char path[PATH_MAX];
	char dataset[PATH_MAX];
	char issuer_key[PATH_MAX];
	char recipient_key[PATH_MAX];
	char passphrase_file[PATH_MAX]; /* "" when the key is not protected */
	char state_dir[PATH_MAX];
	char notices_dir[PATH_MAX]; /* termination notices; default state_dir/notices */
	char purge[8];		    /* "auto": cut expired records out of the file at rest */
	char audit_log[PATH_MAX];
	char audit_verify_key[PATH_MAX];
	char audit_sync[8];		       /* "always" or "batch" */
	unsigned audit_sync_interval_ms;       /* batch: flush at most this often */
	char audit_syslog[16];		       /* "off" or a facility: audit lines to syslog too */
	char audit_syslog_socket[PATH_MAX];    /* default /dev/log */
	unsigned audit_max_per_minute;	       /* per user; 0 = no limit */
	unsigned audit_max_per_minute_profile; /* per profile; 0 = no limit */
	unsigned nlabels;
	char label_field[DATASET_FIELDS_MAX][DATASET_FIELD_NAME_MAX + 1];
	char label[DATASET_FIELDS_MAX][CONFIG_TEXT_MAX];
	struct config_profile profiles[CONFIG_PROFILES_MAX];
	size_t nprofiles;
	bool uses_groups; /* some profile matches by group: callers' groups are needed */
	int label_of[DATASET_FIELDS_MAX]; /* dataset field index -> label index (config_bind) */
	/* BLAKE2b-256 over the file's bytes and every profile's resolved uids and gids:
	 * a change to either (a user removed from a profile, a name that now
	 * resolves to another id) is a different config. Group membership is not
	 * in it: callers' groups are read per request. */
	unsigned char digest[CONFIG_DIGEST_BYTES];
};

/* Load and validate path: schema, files (present, readable; secret key and
 * passphrase file not readable by group or others; nothing group- or
 * world-writable), users and groups (known, each in at most one profile, no user
 * in a group of another profile). On error *cfg is NULL. */
int config_load(struct config **cfg, const char *path, char *err, size_t errlen);

/* Check the profiles and labels against the dataset's signed field list and
 * resolve field names to indices. Every field a profile names must be signed and
 * labelled. */
int config_bind(struct config *cfg, const struct dataset_terms *t, char *err, size_t errlen);

/* The label of dataset field index f (after config_bind). */
const char *config_label(const struct config *cfg, const struct dataset_terms *t, unsigned f);

/* The digest as 64 lowercase hex digits and a NUL (for the audit's config line). */
void config_digest_hex(const struct config *cfg, char out[2 * CONFIG_DIGEST_BYTES + 1]);

/* Do a and b serve the same profiles, fields, labels and settings? (Digests
 * equal.) */
bool config_same(const struct config *a, const struct config *b);

/* May nx replace cur in a running daemon? -EBUSY, naming file, section and key,
 * when a key only a restart can apply differs ([dataset] state_dir, [audit] log,
 * verify_key, sync, sync_interval_ms, syslog, syslog_socket); everything else (profiles, limits,
 * paths of the dataset and keys) applies at reload. */
int config_restart_check(const struct config *cur, const struct config *nx, char *err,
			 size_t errlen);

void config_free(struct config *cfg);

#endif
