/* util.h — small helpers shared by every module: error messages, little-endian
 * byte order, whole-file reads and all-or-nothing file writes.
 *
 * Error convention used throughout protocolfs: functions return 0 or a negative
 * errno and, on error, write one line (no trailing newline) naming what and where
 * into a caller-provided buffer. Messages never contain personal data. */
#ifndef PFS_UTIL_H
#define PFS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Format an error message into err (may be NULL). Returns nothing; never fails. */
void util_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void util_store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void util_store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void util_store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t util_load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t util_load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t util_load_le64(const uint8_t *p)
{
	return (uint64_t)util_load_le32(p) | (uint64_t)util_load_le32(p + 4) << 32;
}

/* Read a whole regular file into a fresh malloc'ed buffer (NUL-terminated, the
 * terminator not counted in *len). Fails with -EFBIG above max bytes. The caller
 * frees *buf. On error *buf is NULL. */
int util_read_file(const char *path, uint8_t **buf, size_t *len, size_t max, char *err,
		   size_t errlen);

/* The same with flags: O_NOFOLLOW (a symlink is refused, "a symbolic link"),
 * O_NONBLOCK (the open never waits: a file under a lease fails with EWOULDBLOCK
 * instead of stalling the caller for the lease-break time), and
 * UTIL_READ_NOT_WRITABLE (a file group or others may write is refused). */
#define UTIL_READ_NOT_WRITABLE 0x40000000
int util_read_file_flags(const char *path, int flags, uint8_t **buf, size_t *len, size_t max,
			 char *err, size_t errlen);

/* A file or folder the daemon trusts (config, keys, state, notices): owned by
 * root or the daemon's user and writable by nobody else. 0, or -EPERM with
 * "WHERE: owned by uid N, not by root or the daemon's user" or "WHERE: writable
 * by group or others (chmod go-w)" in err. */
struct stat;
int util_owner_check(const struct stat *st, const char *where, char *err, size_t errlen);

/* All-or-nothing output: util_out_open creates PATH.tmp.XXXXXX in the folder of
 * path (O_EXCL, O_CLOEXEC, mode); util_out_commit fsyncs it, renames it onto path
 * and fsyncs the folder; util_out_abort unlinks it. Exactly one of commit or abort
 * must follow a successful open; both close the fd. When overwrite is false,
 * commit refuses (-EEXIST) if path exists, using link(2) so that the check and the
 * placement are one step. */
struct util_out {
	int fd;
	char tmp[4096];
	char path[4096];
};
int util_out_open(struct util_out *o, const char *path, int mode, char *err, size_t errlen);
int util_out_write(struct util_out *o, const void *buf, size_t len, char *err, size_t errlen);
int util_out_commit(struct util_out *o, bool overwrite, char *err, size_t errlen);
void util_out_abort(struct util_out *o);

#endif
