/* util.c — error formatting and all-or-nothing file output (see util.h). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int util_owner_check(const struct stat *st, const char *where, char *err, size_t errlen)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		util_errf(err, errlen, "%s: owned by uid %u, not by root or the daemon's user",
			  where, (unsigned)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		util_errf(err, errlen, "%s: writable by group or others (chmod go-w)", where);
		return -EPERM;
	}
	return 0;
}

int util_read_file(const char *path, uint8_t **buf, size_t *len, size_t max, char *err,
		   size_t errlen)
{
	return util_read_file_flags(path, 0, buf, len, max, err, errlen);
}

int util_read_file_flags(const char *path, int flags, uint8_t **buf, size_t *len, size_t max,
			 char *err, size_t errlen)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | (flags & (O_NOFOLLOW | O_NONBLOCK)));
	if (fd < 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path,
			  errno == ELOOP && (flags & O_NOFOLLOW) ? "a symbolic link"
								 : strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		util_errf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((flags & UTIL_READ_NOT_WRITABLE) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		rc = -EPERM;
		util_errf(err, errlen, "%s: writable by group or others", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
		util_errf(err, errlen, "%s: file too large (%lld bytes, limit %zu)", path,
			  (long long)st.st_size, max);
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		util_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			util_errf(err, errlen, "%s: read failed: %s", path,
				  n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		got += (size_t)n;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	b = NULL;
out:
	if (b)
		explicit_bzero(b, got); /* the file may hold personal data */
	free(b);
	close(fd);
	return rc;
}

int util_out_open(struct util_out *o, const char *path, int mode, char *err, size_t errlen)
{
	int n;

	o->fd = -1;
	n = snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(o->tmp) || strlen(path) >= sizeof(o->path)) {
		util_errf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(o->path, path);
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int e = errno;
		util_errf(err, errlen, "%s: cannot create temporary file: %s", path, strerror(e));
		return -e;
	}
	if (fchmod(o->fd, (mode_t)mode) < 0) {
		int e = errno;
		util_out_abort(o);
		util_errf(err, errlen, "%s: chmod: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int util_out_write(struct util_out *o, const void *buf, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(o->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			util_errf(err, errlen, "%s: write failed: %s", o->path, strerror(e));
			return -e;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int util_dir_fsync(const char *path)
{
	char copy[4096];
	int fd, rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int util_out_commit(struct util_out *o, bool overwrite, char *err, size_t errlen)
{
	int rc = 0;

	if (fsync(o->fd) < 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: fsync failed: %s", o->path, strerror(-rc));
		goto fail;
	}
	if (overwrite) {
		if (rename(o->tmp, o->path) < 0) {
			rc = -errno;
			util_errf(err, errlen, "%s: rename failed: %s", o->path, strerror(-rc));
			goto fail;
		}
	} else {
		/* link(2) fails if the target exists: check and placement in one step. */
		if (link(o->tmp, o->path) < 0) {
			rc = -errno;
			util_errf(err, errlen, "%s: %s%s", o->path, strerror(-rc),
				  rc == -EEXIST ? " (use --force to overwrite)" : "");
			goto fail;
		}
		unlink(o->tmp);
	}
	close(o->fd);
	o->fd = -1;
	rc = util_dir_fsync(o->path);
	if (rc < 0)
		util_errf(err, errlen, "%s: fsync of folder failed: %s", o->path, strerror(-rc));
	return rc;
fail:
	util_out_abort(o);
	return rc;
}

void util_out_abort(struct util_out *o)
{
	if (o->fd >= 0) {
		close(o->fd);
		unlink(o->tmp);
	}
	o->fd = -1;
}
