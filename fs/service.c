/* service.c — load and verify what the daemon serves (see service.h). */
#include "service.h"
#include "keys.h"
#include "util.h"

#include "clock.h"
#include "notice.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prefix a module's message with the config key it came from. */
static int service_where(int rc, const struct config *cfg, const char *key, char *err,
			 size_t errlen)
{
	char msg[1024];

	if (rc < 0 && err && errlen) {
		snprintf(msg, sizeof(msg), "%s", err);
		util_errf(err, errlen, "%s: [dataset] %s: %s", cfg->path, key, msg);
	}
	return rc;
}

static int service_dataset(struct service *s, char *err, size_t errlen)
{
	const struct config *cfg = s->cfg;
	struct keys_secret rcp = {0};
	int rc = keys_public_load(&s->issuer, cfg->issuer_key, KEYS_ISSUER, err, errlen);

	rc = service_where(rc, cfg, "issuer_key", err, errlen);
	if (rc == 0)
		rc = service_where(dataset_open(&s->ds, cfg->dataset, &s->issuer, err, errlen), cfg,
				   "path", err, errlen);
	if (rc == 0)
		rc = config_bind(s->cfg, dataset_terms(s->ds), err, errlen);
	if (rc == 0)
		rc = service_where(
		    keys_secret_load(&rcp, cfg->recipient_key, KEYS_RECIPIENT,
				     cfg->passphrase_file[0] ? cfg->passphrase_file : NULL, err,
				     errlen),
		    cfg, "recipient_key", err, errlen);
	if (rc == 0)
		rc = service_where(dataset_unlock(s->ds, &rcp, err, errlen), cfg, "recipient_key",
				   err, errlen);
	/* The recipient key is only needed to open the file key: wipe it now. */
	keys_secret_free(&rcp);
	return rc;
}

int service_open(struct service **out, const char *config_path, char *err, size_t errlen)
{
	struct service *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;

	*out = NULL;
	if (!s) {
		util_errf(err, errlen, "out of memory");
		return rc;
	}
	rc = config_load(&s->cfg, config_path, err, errlen);
	if (rc == 0)
		rc = service_dataset(s, err, errlen);
	if (rc == 0)
		rc = expiry_new(&s->exp, s->ds, err, errlen);
	if (rc < 0) {
		service_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void service_close(struct service *s)
{
	if (!s)
		return;
	expiry_free(s->exp);
	dataset_close(s->ds);
	config_free(s->cfg);
	free(s);
}

static uint64_t service_serial_read(const struct service *s)
{
	char path[PATH_MAX + 32], buf[64] = "";
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%.4000s/dataset.serial", s->cfg->state_dir);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "serial %llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int service_serial_check(const struct service *s, char *err, size_t errlen)
{
	uint64_t seen = service_serial_read(s), have = dataset_terms(s->ds)->serial;

	if (have < seen) {
		util_errf(err, errlen,
			  "%s: serial %" PRIu64 " is older than serial %" PRIu64
			  " already accepted: refusing a rollback",
			  s->cfg->dataset, have, seen);
		return -ESTALE;
	}
	return 0;
}

int service_serial_store(const struct service *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], line[64];
	struct util_out o = {.fd = -1};
	int rc;

	if (service_serial_read(s) >= dataset_terms(s->ds)->serial)
		return 0;
	snprintf(path, sizeof(path), "%.4000s/dataset.serial", s->cfg->state_dir);
	snprintf(line, sizeof(line), "serial %" PRIu64 "\n", dataset_terms(s->ds)->serial);
	rc = util_out_open(&o, path, 0600, err, errlen);
	if (rc == 0)
		rc = util_out_write(&o, line, strlen(line), err, errlen);
	if (rc == 0)
		return util_out_commit(&o, true, err, errlen);
	util_out_abort(&o);
	return rc;
}

int service_successor(const struct service *cur, const struct service *nx,
		      enum service_change *kind, char *err, size_t errlen)
{
	const struct dataset_terms *a = dataset_terms(cur->ds), *b = dataset_terms(nx->ds);
	bool same_ds = b->serial == a->serial && memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0 &&
		       dataset_count(nx->ds) == dataset_count(cur->ds);

	if (b->serial > a->serial)
		*kind = SERVICE_NEWER;
	else if (same_ds && dataset_present(nx->ds) < dataset_present(cur->ds))
		*kind = SERVICE_PURGED;
	else if (same_ds && dataset_present(nx->ds) == dataset_present(cur->ds) &&
		 !config_same(cur->cfg, nx->cfg))
		*kind = SERVICE_CONFIG;
	else if (same_ds && dataset_present(nx->ds) == dataset_present(cur->ds)) {
		util_errf(err, errlen,
			  "nothing changed: serial %llu and the config are the ones mounted",
			  (unsigned long long)b->serial);
		return -ESTALE;
	} else {
		util_errf(err, errlen, "serial %llu is not newer than the mounted serial %llu",
			  (unsigned long long)b->serial, (unsigned long long)a->serial);
		return -ESTALE;
	}
	return service_serial_check(nx, err, errlen);
}

/* Has this file (by name, mtime and size) been read already? Records it if not. */
static bool service_seen_before(struct service_seen *seen, const char *name, long long stamp)
{
	unsigned slot = seen->n < 64 ? seen->n : 63;

	for (unsigned i = 0; i < seen->n; i++)
		if (strcmp(seen->name[i], name) == 0 && seen->stamp[i] == stamp)
			return true;
	snprintf(seen->name[slot], sizeof(seen->name[slot]), "%s", name);
	seen->stamp[slot] = stamp;
	if (seen->n < 64)
		seen->n++;
	return false;
}

static void service_notice_one(struct service *s, const char *path, const char *name,
			       void (*report)(void *, const char *, int, int64_t, const char *),
			       void *arg)
{
	const struct dataset_terms *t = dataset_terms(s->ds);
	char msg[512] = "";
	int32_t day = 0;
	int64_t at = 0;
	int rc = notice_read(path, &s->issuer, t->protocol_id, &day, msg, sizeof(msg));

	if (rc == 0)
		rc = clock_day_start(t->timezone, day, &at);
	if (rc == 0)
		expiry_terminate(s->exp, at);
	report(arg, name, rc, at, msg);
}

void service_notices(struct service *s, struct service_seen *seen,
		     void (*report)(void *, const char *, int, int64_t, const char *), void *arg)
{
	DIR *d = opendir(s->cfg->notices_dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[PATH_MAX + 256];
		struct stat st;
		snprintf(path, sizeof(path), "%.4000s/%.255s", s->cfg->notices_dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    service_seen_before(seen, e->d_name,
					(long long)st.st_mtime * 1000003 + st.st_size))
			continue;
		service_notice_one(s, path, e->d_name, report, arg);
	}
	if (d)
		closedir(d);
}
