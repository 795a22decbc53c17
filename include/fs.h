/* fs.h — the FUSE daemon: serves a loaded service at a mount point.
 *
 * The FUSE layer decides nothing itself: each operation asks profile (who is the
 * caller), expiry (is the record visible now) and render (what bytes), and
 * returns. Every mutating operation gets EROFS. Each (record, profile) view has
 * its own node id, so no kernel cache can carry one profile's bytes, size or
 * name to another caller (DESIGN.md, "Profiles and what a caller sees"). */
#ifndef PFS_FS_H
#define PFS_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "service.h"

/* The name of the root information file. Person files are ID.txt, so a name
 * without ".txt" can never collide with one. */
#define FS_INFO_NAME "LEESMIJ-README"

struct fs_mount_opts {
	const char *mountpoint;
	const char *options; /* user -o options, may be NULL */
	/* Called once the mount is in place (for daemon start-up reporting). */
	void (*on_ready)(void *arg);
	void *arg;
};

/* Mount and serve until unmounted or signalled (SIGINT, SIGTERM). Takes
 * ownership of svc and frees it (wiping the file key) before returning. The mount
 * is always ro,nosuid,nodev,noexec; rw, suid, dev and exec requests are dropped.
 * Returns 0 after a clean unmount, or a negative errno with err set. */
int fs_serve(struct service *svc, const struct fs_mount_opts *o, char *err, size_t errlen);

#endif
