/* config.c — the city's configuration: schema table, files, users and groups,
 * separation of duties (contract in config.h). */
#include "config.h"
#include "ini.h"
#include "util.h"

#include <errno.h>
#include <sodium.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One row per (section, key). Section "profile:" stands for every profile. */
enum cfg_kind {
	CFG_FILE,
	CFG_SECRET_FILE,
	CFG_DIR,
	CFG_PATH,
	CFG_TEXT,
	CFG_LIST,
	CFG_UINT,
	CFG_WORD
};

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_kind kind;
	bool required;
	size_t off; /* into struct config (top-level keys only) */
	size_t size;
	unsigned min, max; /* CFG_UINT bounds */
	const char *words; /* CFG_WORD: the allowed values, "a|b" */
};

#define C(f) offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, NULL

static const struct cfg_key cfg_schema[] = {
    {"dataset", "path", CFG_FILE, true, C(dataset)},
    {"dataset", "issuer_key", CFG_FILE, true, C(issuer_key)},
    {"dataset", "recipient_key", CFG_SECRET_FILE, true, C(recipient_key)},
    {"dataset", "passphrase_file", CFG_SECRET_FILE, false, C(passphrase_file)},
    {"dataset", "state_dir", CFG_DIR, true, C(state_dir)},
    {"dataset", "notices", CFG_PATH, false, C(notices_dir)},
    {"dataset", "purge", CFG_WORD, false, offsetof(struct config, purge), 8, 0, 0, "auto|manual"},
    {"audit", "log", CFG_PATH, true, C(audit_log)},
    {"audit", "verify_key", CFG_PATH, true, C(audit_verify_key)},
    {"audit", "sync", CFG_WORD, false, offsetof(struct config, audit_sync), 8, 0, 0,
     "always|batch"},
    {"audit", "sync_interval_ms", CFG_UINT, false, offsetof(struct config, audit_sync_interval_ms),
     sizeof(unsigned), 1, 60000, NULL},
    {"audit", "syslog", CFG_WORD, false, offsetof(struct config, audit_syslog), 16, 0, 0,
     "off|auth|authpriv|daemon|local0|local1|local2|local3|local4|local5|local6|local7"},
    {"audit", "syslog_socket", CFG_PATH, false, C(audit_syslog_socket)},
    {"audit", "max_opens_per_minute", CFG_UINT, false,
     offsetof(struct config, audit_max_per_minute), sizeof(unsigned), 0, 1000000, NULL},
    {"audit", "max_opens_per_minute_profile", CFG_UINT, false,
     offsetof(struct config, audit_max_per_minute_profile), sizeof(unsigned), 0, 10000000, NULL},
    /* profile keys are parsed by cfg_profile_key */
    {"profile:", "description", CFG_TEXT, false, 0, 0, 0, 0, NULL},
    {"profile:", "fields", CFG_LIST, true, 0, 0, 0, 0, NULL},
    {"profile:", "users", CFG_LIST, false, 0, 0, 0, 0, NULL},
    {"profile:", "groups", CFG_LIST, false, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, false, 0, 0, 0, 0, NULL},
};

#define PROFILE_PREFIX "profile:"

static bool cfg_is_profile(const char *section)
{
	return strncmp(section, PROFILE_PREFIX, strlen(PROFILE_PREFIX)) == 0;
}

static const struct cfg_key *cfg_schema_find(const char *section, const char *key)
{
	const char *s = cfg_is_profile(section) ? PROFILE_PREFIX : section;

	for (const struct cfg_key *k = cfg_schema; k->section; k++)
		if (strcmp(k->section, s) == 0 && strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

/* A relative path is taken from the config file's folder. */
static int cfg_path_resolve(char *dst, size_t size, const char *cfgpath, const char *v)
{
	char copy[PATH_MAX];
	int n;

	if (v[0] == '/') {
		n = snprintf(dst, size, "%s", v);
	} else {
		snprintf(copy, sizeof(copy), "%s", cfgpath);
		n = snprintf(dst, size, "%s/%s", dirname(copy), v);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Present, of the right type, readable, not writable by group or others; secret
 * files not readable by them either. */
static int cfg_file_check(const char *p, enum cfg_kind kind, const char *where0, char *err,
			  size_t errlen)
{
	char where[PATH_MAX * 2 + 300];
	struct stat st;

	/* "where: path: problem", or "path: problem" for the config file itself */
	if (strcmp(where0, p) == 0)
		snprintf(where, sizeof(where), "%s", p);
	else
		snprintf(where, sizeof(where), "%s: %s", where0, p);

	if (stat(p, &st) < 0 || access(p, R_OK) < 0) {
		util_errf(err, errlen, "%s: %s", where, strerror(errno));
		return -errno;
	}
	if ((kind == CFG_DIR) != (S_ISDIR(st.st_mode) != 0) ||
	    (kind != CFG_DIR && !S_ISREG(st.st_mode))) {
		util_errf(err, errlen, "%s: not a %s", where,
			  kind == CFG_DIR ? "directory" : "regular file");
		return -EINVAL;
	}
	if (util_owner_check(&st, where, err, errlen) < 0)
		return -EPERM;
	if (kind == CFG_SECRET_FILE && (st.st_mode & (S_IRGRP | S_IROTH))) {
		util_errf(err, errlen, "%s: readable by group or others (chmod 600)", where);
		return -EPERM;
	}
	return 0;
}

/* A decimal number within the row's bounds (parsed here: the typed iniparser
 * getters crash on some inputs, CVE-2023-33461). */
static int cfg_uint(const char *v, const struct cfg_key *k, unsigned *out, const char *where,
		    char *err, size_t errlen)
{
	unsigned long n = 0;

	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9' || n > k->max) {
			n = (unsigned long)k->max + 1;
			break;
		}
		n = n * 10 + (unsigned long)(*c - '0');
	}
	if (n < k->min || n > k->max) {
		util_errf(err, errlen, "%s: must be a whole number from %u to %u", where, k->min,
			  k->max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

/* One of the row's allowed words ("a|b"). */
static int cfg_word(const char *v, const struct cfg_key *k, char *dst, const char *where, char *err,
		    size_t errlen)
{
	size_t n = strlen(v);
	const char *w = k->words;

	while (w) {
		const char *bar = strchr(w, '|');
		size_t wl = bar ? (size_t)(bar - w) : strlen(w);
		if (wl == n && strncmp(w, v, n) == 0 && n < k->size) {
			strcpy(dst, v);
			return 0;
		}
		w = bar ? bar + 1 : NULL;
	}
	util_errf(err, errlen, "%s: must be one of %s", where, k->words);
	return -EINVAL;
}

/* Store one top-level value (not a profile key) after checking it. */
static int cfg_store(struct config *cfg, const struct cfg_key *k, const char *v, const char *where,
		     char *err, size_t errlen)
{
	char *dst = (char *)cfg + k->off;

	if (!*v) {
		util_errf(err, errlen, "%s: empty value", where);
		return -EINVAL;
	}
	if (k->kind == CFG_UINT)
		return cfg_uint(v, k, (unsigned *)dst, where, err, errlen);
	if (k->kind == CFG_WORD)
		return cfg_word(v, k, dst, where, err, errlen);
	if (cfg_path_resolve(dst, k->size, cfg->path, v) < 0) {
		util_errf(err, errlen, "%s: path too long", where);
		return -ENAMETOOLONG;
	}
	if (k->kind == CFG_PATH)
		return 0;
	return cfg_file_check(dst, k->kind, where, err, errlen);
}

/* strtok_r for "," that keeps empty items (so "a,,b" is an error, not "a,b"). */
static char *strsep_r(char *s, char **save)
{
	char *start = s ? s : *save, *comma;

	if (!start)
		return NULL;
	comma = strchr(start, ',');
	if (comma)
		*comma = 0;
	*save = comma ? comma + 1 : NULL;
	return start;
}

/* Split a comma-separated list in place; calls fn on each trimmed, non-empty item. */
static int cfg_list_each(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
	char buf[CONFIG_TEXT_MAX], *save = NULL, *tok;
	int rc = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	if (!buf[strspn(buf, " \t")])
		return 0; /* an empty list */
	for (tok = strsep_r(buf, &save); tok && rc == 0; tok = strsep_r(NULL, &save)) {
		char *end;
		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		rc = *tok ? fn(ctx, tok) : -EINVAL;
	}
	return rc;
}

struct cfg_list_ctx {
	struct config_profile *p;
	const char *where;
	char *err;
	size_t errlen;
};

static bool cfg_numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int cfg_user_add(void *vctx, const char *item)
{
	struct cfg_list_ctx *c = vctx;
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t uid;
	uid_t *n;

	if (cfg_numeric(item)) {
		uid = (uid_t)strtoul(item, NULL, 10);
	} else if (getpwnam_r(item, &pw, buf, sizeof(buf), &res) == 0 && res) {
		uid = pw.pw_uid;
	} else {
		util_errf(c->err, c->errlen, "%s: unknown user \"%s\"", c->where, item);
		return -ENOENT;
	}
	n = realloc(c->p->uids, (c->p->nuids + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->p->uids = n;
	c->p->uids[c->p->nuids++] = uid;
	return 0;
}

static int cfg_group_add(void *vctx, const char *item)
{
	struct cfg_list_ctx *c = vctx;
	struct group gr, *res = NULL;
	char buf[16384];
	gid_t gid;
	gid_t *n;

	if (cfg_numeric(item)) {
		gid = (gid_t)strtoul(item, NULL, 10);
	} else if (getgrnam_r(item, &gr, buf, sizeof(buf), &res) == 0 && res) {
		gid = gr.gr_gid;
	} else {
		util_errf(c->err, c->errlen, "%s: unknown group \"%s\"", c->where, item);
		return -ENOENT;
	}
	n = realloc(c->p->gids, (c->p->ngids + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->p->gids = n;
	c->p->gids[c->p->ngids++] = gid;
	return 0;
}

static int cfg_field_add(void *vctx, const char *item)
{
	struct cfg_list_ctx *c = vctx;
	struct config_profile *p = c->p;

	if (strlen(item) > DATASET_FIELD_NAME_MAX || p->nfields == DATASET_FIELDS_MAX) {
		util_errf(c->err, c->errlen, "%s: unknown field id \"%s\"", c->where, item);
		return -EINVAL;
	}
	for (unsigned i = 0; i < p->nfields; i++)
		if (strcmp(p->field_name[i], item) == 0) {
			util_errf(c->err, c->errlen, "%s: field \"%s\" listed twice", c->where,
				  item);
			return -EINVAL;
		}
	strcpy(p->field_name[p->nfields++], item);
	return 0;
}

/* Find or create the profile named by section "profile:NAME". */
static struct config_profile *cfg_profile_get(struct config *cfg, const char *section, char *err,
					      size_t errlen)
{
	const char *name = section + strlen(PROFILE_PREFIX);

	for (size_t i = 0; i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	if (!*name || strlen(name) > CONFIG_NAME_MAX || strpbrk(name, " \t/\\\"")) {
		util_errf(err, errlen, "%s: [%s]: %s", cfg->path, section,
			  *name ? "profile name too long or has spaces, quotes or slashes"
				: "empty profile name");
		return NULL;
	}
	if (cfg->nprofiles == CONFIG_PROFILES_MAX) {
		util_errf(err, errlen, "%s: [%s]: more than %d profiles", cfg->path, section,
			  CONFIG_PROFILES_MAX);
		return NULL;
	}
	strcpy(cfg->profiles[cfg->nprofiles].name, name);
	return &cfg->profiles[cfg->nprofiles++];
}

/* One key of a [profile:NAME] section. */
static int cfg_profile_key(struct config *cfg, const struct ini_entry *e, const char *where,
			   char *err, size_t errlen)
{
	struct config_profile *p = cfg_profile_get(cfg, e->section, err, errlen);
	struct cfg_list_ctx c = {p, where, err, errlen};
	int rc;

	if (!p)
		return -EINVAL;
	if (strlen(e->value) >= CONFIG_TEXT_MAX || strpbrk(e->value, "\r\n")) {
		util_errf(err, errlen, "%s: value too long", where);
		return -EINVAL;
	}
	if (strcmp(e->key, "description") == 0) {
		strcpy(p->description, e->value);
		return 0;
	}
	if (strcmp(e->key, "fields") == 0)
		rc = cfg_list_each(e->value, cfg_field_add, &c);
	else if (strcmp(e->key, "users") == 0)
		rc = cfg_list_each(e->value, cfg_user_add, &c), strcpy(p->users_text, e->value);
	else
		rc = cfg_list_each(e->value, cfg_group_add, &c), strcpy(p->groups_text, e->value);
	if (rc == -EINVAL && !err[0])
		util_errf(err, errlen, "%s: empty item in list", where);
	return rc;
}

/* One [labels] entry: field id = label. */
static int cfg_label(struct config *cfg, const struct ini_entry *e, const char *where, char *err,
		     size_t errlen)
{
	const char *v = e->value;

	if (cfg->nlabels == DATASET_FIELDS_MAX || strlen(e->key) > DATASET_FIELD_NAME_MAX) {
		util_errf(err, errlen, "%s: unknown field id", where);
		return -EINVAL;
	}
	if (!*v || strlen(v) >= CONFIG_TEXT_MAX || strpbrk(v, ":\r\n\t")) {
		util_errf(err, errlen, "%s: label must be non-empty, one line, without ':'", where);
		return -EINVAL;
	}
	strcpy(cfg->label_field[cfg->nlabels], e->key);
	strcpy(cfg->label[cfg->nlabels++], v);
	return 0;
}

static int cfg_entry(struct config *cfg, const struct ini_entry *e, char *err, size_t errlen)
{
	const struct cfg_key *k = cfg_schema_find(e->section, e->key);
	char where[PATH_MAX + 256];

	snprintf(where, sizeof(where), "%s: [%s] %s", cfg->path, e->section, e->key);
	if (strcmp(e->section, "labels") == 0)
		return cfg_label(cfg, e, where, err, errlen);
	if (!k) {
		util_errf(err, errlen, "%s: unknown key", where);
		return -EINVAL;
	}
	if (cfg_is_profile(e->section))
		return cfg_profile_key(cfg, e, where, err, errlen);
	return cfg_store(cfg, k, e->value, where, err, errlen);
}

static int cfg_sections_check(struct config *cfg, const struct ini *ini, char *err, size_t errlen)
{
	for (size_t i = 0; i < ini_nsections(ini); i++) {
		const char *s = ini_section(ini, i);
		if (cfg_is_profile(s)) {
			if (!cfg_profile_get(cfg, s, err, errlen))
				return -EINVAL;
		} else if (strcmp(s, "dataset") && strcmp(s, "audit") && strcmp(s, "labels")) {
			util_errf(err, errlen, "%s: [%s]: unknown section", cfg->path, s);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < ini_nentries(ini); i++)
		if (!*ini_entry(ini, i)->section) {
			util_errf(err, errlen, "%s: %s: key outside any section", cfg->path,
				  ini_entry(ini, i)->key);
			return -EINVAL;
		}
	return 0;
}

/* Required keys, top level and per profile. */
static int cfg_required_check(const struct config *cfg, const struct ini *ini, char *err,
			      size_t errlen)
{
	for (const struct cfg_key *k = cfg_schema; k->section; k++) {
		if (!k->required)
			continue;
		if (strcmp(k->section, PROFILE_PREFIX) != 0) {
			if (!ini_get(ini, k->section, k->key)) {
				util_errf(err, errlen, "%s: [%s] %s: missing", cfg->path,
					  k->section, k->key);
				return -EINVAL;
			}
			continue;
		}
		for (size_t p = 0; p < cfg->nprofiles; p++) {
			char sec[CONFIG_NAME_MAX + 16];
			snprintf(sec, sizeof(sec), PROFILE_PREFIX "%s", cfg->profiles[p].name);
			if (!ini_get(ini, sec, k->key)) {
				util_errf(err, errlen, "%s: [%s] %s: missing", cfg->path, sec,
					  k->key);
				return -EINVAL;
			}
		}
	}
	if (cfg->nprofiles == 0) {
		util_errf(err, errlen, "%s: no [profile:NAME] section", cfg->path);
		return -EINVAL;
	}
	return 0;
}

/* Which profile, other than self, lists uid (or gid)? -1 if none. */
static long cfg_owner_uid(const struct config *cfg, uid_t uid, size_t self)
{
	for (size_t p = 0; p < cfg->nprofiles; p++)
		for (size_t i = 0; p != self && i < cfg->profiles[p].nuids; i++)
			if (cfg->profiles[p].uids[i] == uid)
				return (long)p;
	return -1;
}

static long cfg_owner_gid(const struct config *cfg, gid_t gid, size_t self)
{
	for (size_t p = 0; p < cfg->nprofiles; p++)
		for (size_t i = 0; p != self && i < cfg->profiles[p].ngids; i++)
			if (cfg->profiles[p].gids[i] == gid)
				return (long)p;
	return -1;
}

/* The profiles a user of the account database matches by name and by groups. */
static int cfg_user_duties(const struct config *cfg, const struct passwd *pw, char *err,
			   size_t errlen)
{
	gid_t groups[256];
	int ng = 256;
	long first = cfg_owner_uid(cfg, pw->pw_uid, SIZE_MAX);

	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
		ng = 256;
	for (int g = 0; g < ng; g++) {
		long p = cfg_owner_gid(cfg, groups[g], SIZE_MAX);
		if (p >= 0 && first >= 0 && p != first) {
			util_errf(err, errlen,
				  "%s: [profile:%s] groups: user %s (a member of gid %u) would "
				  "match profiles \"%s\" and \"%s\" (one person, one profile: "
				  "separation of duties)",
				  cfg->path, cfg->profiles[p].name, pw->pw_name,
				  (unsigned)groups[g], cfg->profiles[first].name,
				  cfg->profiles[p].name);
			return -EINVAL;
		}
		if (p >= 0)
			first = p;
	}
	return 0;
}

/* Separation of duties: a uid or gid in two profiles, or a user who would match
 * two profiles through their groups, is refused. */
static int cfg_duties_check(const struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;
	int rc = 0;

	for (size_t p = 0; p < cfg->nprofiles; p++) {
		const struct config_profile *pr = &cfg->profiles[p];
		for (size_t i = 0; i < pr->nuids; i++)
			if (cfg_owner_uid(cfg, pr->uids[i], p) >= 0) {
				util_errf(err, errlen,
					  "%s: [profile:%s] users: uid %u is also in "
					  "profile \"%s\" (separation of duties)",
					  cfg->path, pr->name, (unsigned)pr->uids[i],
					  cfg->profiles[cfg_owner_uid(cfg, pr->uids[i], p)].name);
				return -EINVAL;
			}
		for (size_t i = 0; i < pr->ngids; i++)
			if (cfg_owner_gid(cfg, pr->gids[i], p) >= 0) {
				util_errf(err, errlen,
					  "%s: [profile:%s] groups: gid %u is also in "
					  "profile \"%s\" (separation of duties)",
					  cfg->path, pr->name, (unsigned)pr->gids[i],
					  cfg->profiles[cfg_owner_gid(cfg, pr->gids[i], p)].name);
				return -EINVAL;
			}
	}
	setpwent();
	while (rc == 0 && (pw = getpwent()))
		rc = cfg_user_duties(cfg, pw, err, errlen);
	endpwent();
	return rc;
}

/* The digest covers what the file says and what the name service resolved it to
 * (see struct config). */
static int cfg_digest(struct config *cfg, char *err, size_t errlen)
{
	crypto_generichash_state st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = util_read_file(cfg->path, &buf, &len, 16u << 20, err, errlen);

	if (rc < 0)
		return rc;
	crypto_generichash_init(&st, NULL, 0, sizeof(cfg->digest));
	crypto_generichash_update(&st, buf, len);
	free(buf);
	for (size_t p = 0; p < cfg->nprofiles; p++) {
		const struct config_profile *pr = &cfg->profiles[p];
		uint8_t n[16];
		util_store_le64(n, pr->nuids);
		util_store_le64(n + 8, pr->ngids);
		crypto_generichash_update(&st, n, sizeof(n));
		for (size_t i = 0; i < pr->nuids; i++) {
			util_store_le64(n, pr->uids[i]);
			crypto_generichash_update(&st, n, 8);
		}
		for (size_t i = 0; i < pr->ngids; i++) {
			util_store_le64(n, pr->gids[i]);
			crypto_generichash_update(&st, n, 8);
		}
	}
	crypto_generichash_final(&st, cfg->digest, sizeof(cfg->digest));
	return 0;
}

void config_digest_hex(const struct config *cfg, char out[2 * CONFIG_DIGEST_BYTES + 1])
{
	sodium_bin2hex(out, 2 * CONFIG_DIGEST_BYTES + 1, cfg->digest, sizeof(cfg->digest));
}

bool config_same(const struct config *a, const struct config *b)
{
	return sodium_memcmp(a->digest, b->digest, sizeof(a->digest)) == 0;
}

/* Keys the running daemon holds open or was started with: the audit log and its
 * chain state, the flush policy. A reload that changed them would look applied
 * while the old values stay in force. */
static const char *const cfg_restart_keys[][2] = {
    {"dataset", "state_dir"},	   {"audit", "log"}, {"audit", "verify_key"}, {"audit", "sync"},
    {"audit", "sync_interval_ms"},
};

int config_restart_check(const struct config *cur, const struct config *nx, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < sizeof(cfg_restart_keys) / sizeof(cfg_restart_keys[0]); i++) {
		const struct cfg_key *k = cfg_schema;
		while (k->section && (strcmp(k->section, cfg_restart_keys[i][0]) != 0 ||
				      strcmp(k->key, cfg_restart_keys[i][1]) != 0))
			k++;
		if (k->section &&
		    memcmp((const char *)cur + k->off, (const char *)nx + k->off, k->size) != 0) {
			util_errf(
			    err, errlen,
			    "%s: [%s] %s changed: the running daemon cannot apply it; restart "
			    "the mount",
			    nx->path, k->section, k->key);
			return -EBUSY;
		}
	}
	return 0;
}

/* iniparser reads lines as C strings: a NUL byte silently hides the rest of its
 * line (a whole line when it comes first, the tail of a last line without a
 * newline). What the file says must be what is enforced, so any NUL is refused. */
static int cfg_nul_check(const char *path, char *err, size_t errlen)
{
	uint8_t *buf = NULL, *nul;
	size_t len = 0;
	unsigned line = 1;
	int rc = util_read_file(path, &buf, &len, 16u << 20, err, errlen);

	if (rc < 0)
		return rc;
	nul = memchr(buf, 0, len);
	if (nul) {
		for (const uint8_t *c = buf; c < nul; c++)
			line += *c == '\n';
		util_errf(err, errlen, "%s:%u: NUL byte in the file", path, line);
		rc = -EINVAL;
	}
	free(buf);
	return rc;
}

int config_load(struct config **out, const char *path, char *err, size_t errlen)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct ini *ini = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!cfg) {
		util_errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	/* Absolute, so relative paths inside stay right after the daemon's chdir("/"). */
	if (!realpath(path, cfg->path)) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	strcpy(cfg->audit_sync, "always");
	strcpy(cfg->audit_syslog, "off");
	strcpy(cfg->audit_syslog_socket, "/dev/log");
	strcpy(cfg->purge, "manual");
	cfg->audit_sync_interval_ms = 1000;
	rc = cfg_file_check(cfg->path, CFG_FILE, cfg->path, err, errlen);
	if (rc == 0)
		rc = cfg_nul_check(cfg->path, err, errlen);
	if (rc == 0)
		rc = ini_load(&ini, cfg->path, err, errlen);
	if (rc == 0)
		rc = cfg_sections_check(cfg, ini, err, errlen);
	for (size_t i = 0; rc == 0 && i < ini_nentries(ini); i++)
		rc = cfg_entry(cfg, ini_entry(ini, i), err, errlen);
	if (rc == 0)
		rc = cfg_required_check(cfg, ini, err, errlen);
	if (rc == 0)
		rc = cfg_duties_check(cfg, err, errlen);
	if (rc == 0)
		rc = cfg_digest(cfg, err, errlen);
	if (rc < 0)
		goto fail;
	for (size_t p = 0; p < cfg->nprofiles; p++)
		cfg->uses_groups |= cfg->profiles[p].ngids > 0;
	if (!cfg->notices_dir[0])
		snprintf(cfg->notices_dir, sizeof(cfg->notices_dir), "%.4000s/notices",
			 cfg->state_dir);
	ini_free(ini);
	*out = cfg;
	return 0;
fail:
	ini_free(ini);
	config_free(cfg);
	return rc;
}

static int cfg_signed_index(const struct dataset_terms *t, const char *name)
{
	for (unsigned f = 0; f < t->nfields; f++)
		if (strcmp(t->fields[f], name) == 0)
			return (int)f;
	return -1;
}

static int cfg_label_index(const struct config *cfg, const char *name)
{
	for (unsigned l = 0; l < cfg->nlabels; l++)
		if (strcmp(cfg->label_field[l], name) == 0)
			return (int)l;
	return -1;
}

/* A profile's fields, checked and sorted into the dataset's field order. */
static int cfg_profile_bind(struct config *cfg, struct config_profile *p,
			    const struct dataset_terms *t, char *err, size_t errlen)
{
	bool want[DATASET_FIELDS_MAX] = {false};

	for (unsigned i = 0; i < p->nfields; i++) {
		int f = cfg_signed_index(t, p->field_name[i]);
		if (cfg_label_index(cfg, p->field_name[i]) < 0) {
			util_errf(err, errlen,
				  "%s: [profile:%s] fields: unknown field id \"%s\" "
				  "(no label in [labels])",
				  cfg->path, p->name, p->field_name[i]);
			return -EINVAL;
		}
		if (f < 0) {
			util_errf(err, errlen,
				  "%s: [profile:%s] fields: \"%s\" is not in the "
				  "dataset's signed field list",
				  cfg->path, p->name, p->field_name[i]);
			return -EINVAL;
		}
		want[f] = true;
	}
	p->nfields = 0;
	for (unsigned f = 0; f < t->nfields; f++)
		if (want[f])
			p->field[p->nfields++] = f;
	return 0;
}

int config_bind(struct config *cfg, const struct dataset_terms *t, char *err, size_t errlen)
{
	for (unsigned l = 0; l < cfg->nlabels; l++)
		if (cfg_signed_index(t, cfg->label_field[l]) < 0) {
			util_errf(err, errlen,
				  "%s: [labels] %s: not in the dataset's signed field list",
				  cfg->path, cfg->label_field[l]);
			return -EINVAL;
		}
	for (unsigned f = 0; f < t->nfields; f++)
		cfg->label_of[f] = cfg_label_index(cfg, t->fields[f]);
	for (size_t p = 0; p < cfg->nprofiles; p++) {
		int rc = cfg_profile_bind(cfg, &cfg->profiles[p], t, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

const char *config_label(const struct config *cfg, const struct dataset_terms *t, unsigned f)
{
	int l = cfg->label_of[f];
	return l >= 0 ? cfg->label[l] : t->fields[f];
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t p = 0; p < cfg->nprofiles; p++) {
		free(cfg->profiles[p].uids);
		free(cfg->profiles[p].gids);
	}
	free(cfg);
}
