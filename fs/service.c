/* service.c — load and verify what the daemon serves (see service.h). */
#include "service.h"
#include "slog.h"
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

static int service_termination_load(struct service *s, char *err, size_t errlen);
static int service_termination_store(const struct service *s, int64_t at, char *err, size_t errlen);
static int service_notices_check(const struct service *s, char *err, size_t errlen);

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
	if (rc == 0)
		rc = service_termination_load(s, err, errlen);
	if (rc == 0)
		rc = service_notices_check(s, err, errlen);
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

/* Read a small state file of state_dir into buf (NUL-terminated): 1 when it is
 * absent (a first mount), 0 when read, or a negative errno with a message naming
 * it. Anything else is refused, never read as "absent": a symlink, a directory, a
 * file others may write or own, one too large for its content. O_NONBLOCK: the
 * open never waits on a lease or a FIFO. */
static int service_state_read(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc = 0;

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path,
			  errno == ELOOP ? "a symbolic link, not a state file" : strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: not a regular file", path);
	} else {
		rc = util_owner_check(&st, path, err, errlen);
	}
	if (rc == 0 && (uint64_t)st.st_size >= cap) {
		rc = -EFBIG;
		util_errf(err, errlen, "%s: too large for a state file (%lld bytes)", path,
			  (long long)st.st_size);
	}
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			util_errf(err, errlen, "%s: %s", path,
				  n < 0 ? strerror(errno) : "file shrank while reading");
		} else {
			got += (size_t)n;
		}
	}
	buf[got] = 0;
	close(fd);
	return rc;
}

/* Parse exactly "WORD N\n" (N decimal, no sign unless allowed, no leading zeros,
 * no overflow). */
static int service_state_parse(const char *buf, const char *word, bool sign, int64_t *v)
{
	size_t wl = strlen(word);
	const char *p = buf + wl + 1;
	bool neg = false;
	uint64_t acc = 0, lim;

	if (strncmp(buf, word, wl) != 0 || buf[wl] != ' ')
		return -EBADMSG;
	if (sign && *p == '-')
		neg = true, p++;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '\n'))
		return -EBADMSG;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned dgt = (unsigned)(*p - '0');
		if (acc > (lim - dgt) / 10)
			return -ERANGE;
		acc = acc * 10 + dgt;
	}
	if (p[0] != '\n' || p[1] != 0)
		return -EBADMSG;
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* A state file WORD N: *present false when absent; refused when not exactly that. */
static int service_state_get(const struct service *s, const char *name, const char *word, bool sign,
			     int64_t *v, bool *present, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], buf[64];
	int rc;

	*v = 0;
	*present = false;
	snprintf(path, sizeof(path), "%.4000s/%s", s->cfg->state_dir, name);
	rc = service_state_read(path, buf, sizeof(buf), err, errlen);
	if (rc == 1)
		return 0;
	if (rc == 0 && service_state_parse(buf, word, sign, v) < 0) {
		rc = -EINVAL; /* a config/state error (exit 2), not a broken signature */
		util_errf(err, errlen, "%s: malformed (want one line \"%s N\")", path, word);
	}
	*present = rc == 0;
	return rc;
}

static int service_state_put(const struct service *s, const char *name, const char *line, char *err,
			     size_t errlen)
{
	char path[PATH_MAX + 32];
	struct util_out o = {.fd = -1};
	int rc;

	snprintf(path, sizeof(path), "%.4000s/%s", s->cfg->state_dir, name);
	rc = util_out_open(&o, path, 0600, err, errlen);
	if (rc == 0)
		rc = util_out_write(&o, line, strlen(line), err, errlen);
	if (rc == 0)
		return util_out_commit(&o, true, err, errlen);
	util_out_abort(&o);
	return rc;
}

static int service_serial_read(const struct service *s, uint64_t *v, char *err, size_t errlen)
{
	int64_t got = 0;
	bool present;
	int rc =
	    service_state_get(s, "dataset.serial", "serial", false, &got, &present, err, errlen);

	*v = (uint64_t)got;
	return rc;
}

int service_serial_check(const struct service *s, char *err, size_t errlen)
{
	uint64_t seen = 0, have = dataset_terms(s->ds)->serial;
	int rc = service_serial_read(s, &seen, err, errlen);

	if (rc < 0)
		return rc;
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
	char line[64];
	uint64_t seen = 0;
	int rc = service_serial_read(s, &seen, err, errlen);

	if (rc < 0 || seen >= dataset_terms(s->ds)->serial)
		return rc;
	snprintf(line, sizeof(line), "serial %" PRIu64 "\n", dataset_terms(s->ds)->serial);
	return service_state_put(s, "dataset.serial", line, err, errlen);
}

/* The accepted termination (Art. 8) lives in state_dir/termination as the instant
 * it takes effect, so that it outlives the notice file. */
static int service_termination_load(struct service *s, char *err, size_t errlen)
{
	int64_t at = 0;
	bool present;
	int rc =
	    service_state_get(s, "termination", "terminated", true, &at, &present, err, errlen);

	if (rc == 0 && present)
		expiry_terminate(s->exp, at);
	return rc;
}

static int service_termination_store(const struct service *s, int64_t at, char *err, size_t errlen)
{
	char line[64];
	int64_t have = 0;
	bool present;
	int rc =
	    service_state_get(s, "termination", "terminated", true, &have, &present, err, errlen);

	if (rc < 0 || (present && have <= at))
		return rc;
	snprintf(line, sizeof(line), "terminated %" PRId64 "\n", at);
	return service_state_put(s, "termination", line, err, errlen);
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
		return -EALREADY;
	} else {
		util_errf(err, errlen, "serial %llu is not newer than the mounted serial %llu",
			  (unsigned long long)b->serial, (unsigned long long)a->serial);
		return -ESTALE;
	}
	if (config_restart_check(cur->cfg, nx->cfg, err, errlen) < 0)
		return -EBUSY;
	return service_serial_check(nx, err, errlen);
}

/* The notices folder is held to state_dir's rules: absent is fine (nothing to
 * read), otherwise a directory owned by root or the daemon's user that nobody
 * else may write, so no one else can place a file there that blocks or floods
 * the keeper. */
static int service_notices_check(const struct service *s, char *err, size_t errlen)
{
	const char *p = s->cfg->notices_dir;
	char where[2 * PATH_MAX + 32];
	struct stat st;

	if (stat(p, &st) < 0) {
		int e = errno;
		if (e == ENOENT)
			return 0;
		util_errf(err, errlen, "%s: [dataset] notices: %s: %s", s->cfg->path, p,
			  strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		util_errf(err, errlen, "%s: [dataset] notices: %s: not a directory", s->cfg->path,
			  p);
		return -ENOTDIR;
	}
	snprintf(where, sizeof(where), "%s: [dataset] notices: %s", s->cfg->path, p);
	return util_owner_check(&st, where, err, errlen);
}

/* Has this file (by name, inode, mtime and size) been read already? Records it
 * if not. Every file is remembered, however many: a full table would make some
 * be read and logged again each second. Out of memory: not remembered (read
 * again, never skipped). */
static bool service_seen_before(struct service_seen *seen, const char *name, const struct stat *st)
{
	struct service_seen_file *f;

	for (size_t i = 0; i < seen->n; i++) {
		f = &seen->file[i];
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->ino == (unsigned long long)st->st_ino && f->mtime == st->st_mtim.tv_sec &&
		    f->mtime_ns == st->st_mtim.tv_nsec && f->size == st->st_size)
			return true;
		goto fill; /* replaced: remember the new one instead */
	}
	if (seen->n == seen->cap) {
		size_t ncap = seen->cap ? seen->cap * 2 : 64;
		struct service_seen_file *grown = realloc(seen->file, ncap * sizeof(*grown));
		if (!grown)
			return false;
		seen->file = grown;
		seen->cap = ncap;
	}
	f = &seen->file[seen->n++];
fill:
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->ino = st->st_ino;
	f->mtime = st->st_mtim.tv_sec;
	f->mtime_ns = st->st_mtim.tv_nsec;
	f->size = st->st_size;
	return false;
}

void service_seen_free(struct service_seen *seen)
{
	free(seen->file);
	seen->file = NULL;
	seen->n = seen->cap = 0;
}

static void service_notice_one(struct service *s, bool record, const char *path, const char *name,
			       void (*report)(void *, const char *, int, int64_t, const char *),
			       void *arg)
{
	const struct dataset_terms *t = dataset_terms(s->ds);
	char msg[512] = "", why[400];
	int32_t day = 0;
	int64_t at = 0;
	int rc = notice_read(path, &s->issuer, t->protocol_id, &day, msg, sizeof(msg));

	if (rc == 0)
		rc = clock_day_start(t->timezone, day, &at);
	if (rc == 0)
		expiry_terminate(s->exp, at); /* in force now, whatever happens next */
	/* recorded so that it outlives the notice file (a remount without it still
	 * honours it) */
	if (rc == 0 && record && (rc = service_termination_store(s, at, why, sizeof(why))) < 0)
		snprintf(msg, sizeof(msg), "accepted, but not recorded: %s", why);
	report(arg, name, rc, at, msg);
}

void service_notices(struct service *s, struct service_seen *seen,
		     void (*report)(void *, const char *, int, int64_t, const char *), void *arg)
{
	DIR *d = opendir(s->cfg->notices_dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[PATH_MAX + 256], msg[PATH_MAX + 320];
		struct stat st;
		snprintf(path, sizeof(path), "%.4000s/%.255s", s->cfg->notices_dir, e->d_name);
		/* lstat: a link is not followed, and refused below */
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode) || service_seen_before(seen, e->d_name, &st))
			continue;
		if (!S_ISREG(st.st_mode)) {
			snprintf(msg, sizeof(msg), "%s: %s", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link, not a notice"
						     : "not a regular file");
			report(arg, e->d_name, S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL, 0, msg);
			continue;
		}
		service_notice_one(s, seen->record, path, e->d_name, report, arg);
	}
	if (d)
		closedir(d);
}

void service_audit_opts(const struct config *c, struct audit_opts *o)
{
	*o = (struct audit_opts){
	    .log_path = c->audit_log,
	    .state_dir = c->state_dir,
	    .verify_key = c->audit_verify_key,
	    .sync = strcmp(c->audit_sync, "batch") == 0 ? AUDIT_SYNC_BATCH : AUDIT_SYNC_ALWAYS,
	    .sync_interval_ms = c->audit_sync_interval_ms,
	    .max_per_minute = c->audit_max_per_minute,
	    .max_per_minute_profile = c->audit_max_per_minute_profile,
	    .syslog_facility =
		strcmp(c->audit_syslog, "off") == 0 ? 0 : slog_facility(c->audit_syslog),
	    .syslog_socket = c->audit_syslog_socket,
	};
}
