/* fs.c — the FUSE operations (low-level API) and nothing else (see fs.h).
 *
 * Node ids. 1 is the root; 2 + p is the information file of profile p; every
 * person file has one node per profile: VIEW_BASE + record * nprofiles + p. A
 * lookup answers with the caller's own node, so two profiles never share a kernel
 * inode, page cache or attribute cache.
 *
 * Cache policy, set here and nowhere else:
 *  - entry timeout 0: the kernel asks again for every path lookup, so each caller
 *    gets their own node and a name never outlives its visibility;
 *  - attribute timeout 1 s on person views: a view's size belongs to that view
 *    alone and never changes while the record is visible;
 *  - person files use the page cache (per node, so per view); the information
 *    file is direct_io because its content changes with time.
 *
 * A file descriptor keeps the view of the user who opened it: reads render the
 * node's profile, not the reader's. Passing the descriptor on is the opener's
 * disclosure. Every read re-checks visibility (ESTALE once expired).
 *
 * Decrypted records and renderings live in per-thread sodium_malloc'ed scratch
 * buffers, wiped right after each reply. */
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "fs.h"
#include "audit.h"
#include "clock.h"
#include "expiry.h"
#include "profile.h"
#include "render.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <syslog.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PFS_ATTR_TIMEOUT   1.0
#define PFS_GEN_SHIFT	   40
#define PFS_GROUPS_MAX	   256
#define PFS_XATTR_DEADLINE "user.protocolfs.deadline"
#define PFS_XATTR_REASON   "user.protocolfs.reason"

/* One generation: a loaded service and what is derived from it. Replaced whole
 * by a reload; requests hold the daemon's read lock while they use one. */
struct pfs {
	struct service *svc;
	const struct config *cfg;
	const struct dataset *ds;
	const struct dataset_terms *t;
	struct expiry *exp;
	struct clock_mark *mark;
	size_t nprof, nrec;
	uint64_t gen;
	fuse_ino_t gen_base; /* gen << PFS_GEN_SHIFT: node ids of older generations are stale */
	fuse_ino_t view_base;
	_Atomic uint32_t *sizes; /* per view: rendered size + 1, 0 when not yet known */
	int64_t issued_at;
	struct audit *audit;
	const char *fields[CONFIG_PROFILES_MAX][DATASET_FIELDS_MAX]; /* field ids per profile */
};

/* The daemon: what outlives a reload. Lock order: d->lock (read by every
 * request, written only to swap generations), then the audit's own mutex. The
 * keeper thread is the only writer of d->cur. */
struct pfs_daemon {
	pthread_rwlock_t lock;
	struct pfs *cur;
	struct audit *audit;
	struct clock_mark *mark;
	struct fuse_session *se;
	char config_path[PATH_MAX];
	struct service_seen seen; /* notices already read */
	struct stat ds_stat;	  /* the dataset file as last loaded */
	pthread_mutex_t keeper_mu;
	pthread_cond_t keeper_cv;
	bool stop, reload_asked;
	int64_t jump_logged; /* last clock-behind amount logged */
};

static struct pfs *pfs_enter(struct pfs_daemon *d)
{
	pthread_rwlock_rdlock(&d->lock);
	return d->cur;
}

static void pfs_leave(struct pfs_daemon *d)
{
	pthread_rwlock_unlock(&d->lock);
}

/* Per-thread scratch: a decrypted record and its rendering (sodium_malloc). */
struct pfs_scratch {
	struct dataset_record rec;
	char *out;
	size_t cap;
};

static pthread_key_t pfs_scratch_key;
static pthread_once_t pfs_scratch_once = PTHREAD_ONCE_INIT;

static void pfs_scratch_free(void *p)
{
	struct pfs_scratch *s = p;

	dataset_record_free(&s->rec);
	sodium_free(s->out);
	free(s);
}

static void pfs_scratch_init(void)
{
	pthread_key_create(&pfs_scratch_key, pfs_scratch_free);
}

static struct pfs_scratch *pfs_scratch(void)
{
	struct pfs_scratch *s;

	pthread_once(&pfs_scratch_once, pfs_scratch_init);
	s = pthread_getspecific(pfs_scratch_key);
	if (!s && (s = calloc(1, sizeof(*s))))
		pthread_setspecific(pfs_scratch_key, s);
	return s;
}

/* The time every visibility decision uses: never earlier than a time already
 * seen (a clock set back resurrects nothing). */
static int64_t pfs_now(const struct pfs *fs)
{
	return clock_mark_now(fs->mark, NULL);
}

/* ------------------------------------------------------------ node ids */

enum pfs_kind { PFS_ROOT, PFS_INFO, PFS_VIEW, PFS_BAD };

struct pfs_node {
	enum pfs_kind kind;
	size_t rec;
	int prof;
};

static struct pfs_node pfs_node_of(const struct pfs *fs, fuse_ino_t ino)
{
	struct pfs_node n = {PFS_BAD, 0, -1};

	if (ino == FUSE_ROOT_ID) {
		n.kind = PFS_ROOT;
	} else if ((ino >> PFS_GEN_SHIFT) != fs->gen) {
		n.kind = PFS_BAD; /* a node of a dataset that has been replaced */
	} else if (ino >= fs->gen_base + 2 && ino < fs->gen_base + 2 + fs->nprof) {
		n.kind = PFS_INFO;
		n.prof = (int)(ino - fs->gen_base - 2);
	} else if (ino >= fs->view_base && (ino - fs->view_base) / fs->nprof < fs->nrec) {
		n.kind = PFS_VIEW;
		n.rec = (ino - fs->view_base) / fs->nprof;
		n.prof = (int)((ino - fs->view_base) % fs->nprof);
	}
	return n;
}

static fuse_ino_t pfs_view_ino(const struct pfs *fs, size_t rec, int prof)
{
	return fs->view_base + rec * fs->nprof + (fuse_ino_t)prof;
}

/* ------------------------------------------------------------ callers */

/* The caller's profile index, or PROFILE_NONE / PROFILE_AMBIGUOUS. */
/* The supplementary groups of a caller come from /proc (fuse_req_getgroups), a
 * file read per request. Each worker thread remembers its last answer for one
 * second, keyed by pid, uid, gid and generation: a request from the same process
 * with the same ids within a second gets the same profile. What this can get
 * wrong is bounded: a process that drops a group keeps its profile for at most a
 * second, and a recycled pid within a second would need the same uid and gid. */
struct pfs_caller_memo {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t gen;
	int prof;
	int64_t until_ms;
};

static __thread struct pfs_caller_memo pfs_memo;

static int pfs_caller_profile(fuse_req_t req, const struct pfs *fs)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct pfs_caller_memo *m = &pfs_memo;
	gid_t groups[PFS_GROUPS_MAX];
	int64_t now;
	int ng;

	if (!fs->cfg->uses_groups)
		return profile_resolve(fs->cfg, ctx->uid, ctx->gid, NULL, 0);
	now = clock_mono_ms();
	if (m->until_ms > now && m->pid == ctx->pid && m->uid == ctx->uid && m->gid == ctx->gid &&
	    m->gen == fs->gen)
		return m->prof;
	ng = fuse_req_getgroups(req, PFS_GROUPS_MAX, groups);
	if (ng < 0 || ng > PFS_GROUPS_MAX)
		return PROFILE_NONE; /* cannot tell: fail closed */
	*m = (struct pfs_caller_memo){
	    ctx->pid,
	    ctx->uid,
	    ctx->gid,
	    fs->gen,
	    profile_resolve(fs->cfg, ctx->uid, ctx->gid, groups, (size_t)ng),
	    now + 1000};
	return m->prof;
}

/* ------------------------------------------------------------ audit lines */

static const char *pfs_profile_name(const struct pfs *fs, int prof)
{
	return prof >= 0 ? fs->cfg->profiles[prof].name : NULL;
}

static const char *pfs_denial(int prof)
{
	return prof == PROFILE_AMBIGUOUS ? "caller matches two profiles" : "caller has no profile";
}

/* One audit line for a request. rec < 0: no record. Returns 0 or a negative
 * errno; on error the caller must refuse (fail closed). */
static int pfs_audit(fuse_req_t req, const struct pfs *fs, const char *event, const char *reason,
		     int prof, const char *path, long rec, bool disclose)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char id[DATASET_ID_MAX + 1];
	struct audit_event ev = {.event = event,
				 .result = reason ? "denied" : "allowed",
				 .reason = reason,
				 .has_caller = true,
				 .uid = ctx->uid,
				 .pid = ctx->pid,
				 .profile = pfs_profile_name(fs, prof),
				 .path = path};
	size_t il;

	if (rec >= 0) {
		const char *p = dataset_record_id(fs->ds, (size_t)rec, &il);
		memcpy(id, p, il);
		id[il] = 0;
		ev.record = id;
	}
	if (disclose && prof >= 0) {
		ev.fields = fs->fields[prof];
		ev.nfields = fs->cfg->profiles[prof].nfields;
	}
	return audit_append(fs->audit, &ev);
}

/* "/ID.txt" for record rec, or "/" FS_INFO_NAME. */
static void pfs_node_path(const struct pfs *fs, struct pfs_node n, char *out, size_t cap)
{
	size_t il;
	const char *id;

	if (n.kind == PFS_INFO) {
		snprintf(out, cap, "/%s", FS_INFO_NAME);
		return;
	}
	if (n.kind != PFS_VIEW) {
		snprintf(out, cap, "/");
		return;
	}
	id = dataset_record_id(fs->ds, n.rec, &il);
	snprintf(out, cap, "/%.*s.txt", (int)il, id);
}

/* ------------------------------------------------------------ rendering */

/* Render record rec for profile prof into the thread's scratch. On success *out
 * points at *len bytes that the caller must pass to pfs_render_done. */
static int pfs_render_view(const struct pfs *fs, size_t rec, int prof, const char **out,
			   size_t *len)
{
	struct pfs_scratch *s = pfs_scratch();
	const struct config_profile *p = &fs->cfg->profiles[prof];
	size_t need;

	if (!s)
		return -ENOMEM;
	if (dataset_record_open(fs->ds, rec, &s->rec, NULL, 0) < 0)
		return -EIO;
	need = render_record(fs->cfg, fs->t, p, &s->rec, s->out, s->cap);
	if (need > s->cap) {
		sodium_free(s->out);
		s->cap = need + 4096;
		s->out = sodium_malloc(s->cap);
		if (!s->out) {
			s->cap = 0;
			dataset_record_wipe(&s->rec);
			return -ENOMEM;
		}
		render_record(fs->cfg, fs->t, p, &s->rec, s->out, s->cap);
	}
	dataset_record_wipe(&s->rec);
	atomic_store_explicit(&fs->sizes[rec * fs->nprof + (size_t)prof], (uint32_t)need + 1,
			      memory_order_relaxed);
	*out = s->out;
	*len = need;
	return 0;
}

static void pfs_render_done(const char *out, size_t len)
{
	sodium_memzero((void *)out, len);
}

/* Size of a view, from the cache or by rendering once. */
static int pfs_view_size(const struct pfs *fs, size_t rec, int prof, size_t *size)
{
	uint32_t c =
	    atomic_load_explicit(&fs->sizes[rec * fs->nprof + (size_t)prof], memory_order_relaxed);
	const char *out;
	int rc;

	if (c) {
		*size = c - 1;
		return 0;
	}
	rc = pfs_render_view(fs, rec, prof, &out, size);
	if (rc == 0)
		pfs_render_done(out, *size);
	return rc;
}

/* The information file of profile prof, rendered now into buf (no personal data). */
static size_t pfs_render_info(const struct pfs *fs, int prof, char *buf, size_t cap)
{
	struct render_info info;
	int64_t next;
	int32_t day = INT32_MAX;
	int64_t now = pfs_now(fs);

	info.visible = expiry_scan(fs->exp, now, &next);
	if (next != INT64_MAX)
		clock_day_of(fs->t->timezone, next, &day);
	info.next_day = day;
	return render_info(fs->cfg, fs->t, &fs->cfg->profiles[prof], &info, buf, cap);
}

/* ------------------------------------------------------------ attributes */

static void pfs_stat_fill(const struct pfs *fs, fuse_ino_t ino, mode_t mode, size_t size,
			  struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = fs->issued_at;
}

/* Attributes of node n for a caller of profile prof; ENOENT / EACCES otherwise. */
static int pfs_node_stat(const struct pfs *fs, struct pfs_node n, int prof, fuse_ino_t ino,
			 struct stat *st)
{
	char buf[8192];
	size_t size = 0;
	int rc;

	switch (n.kind) {
	case PFS_ROOT:
		pfs_stat_fill(fs, ino, S_IFDIR | 0555, 0, st);
		return 0;
	case PFS_INFO:
		if (n.prof != prof)
			return -EACCES;
		pfs_stat_fill(fs, ino, S_IFREG | 0444, pfs_render_info(fs, prof, buf, sizeof(buf)),
			      st);
		return 0;
	case PFS_VIEW:
		if (n.prof != prof)
			return -EACCES;
		/* a node the kernel still holds whose record is gone: stale (a held
		 * descriptor's read fails with ESTALE; a new lookup gives ENOENT) */
		if (!expiry_visible(fs->exp, n.rec, pfs_now(fs)))
			return -ESTALE;
		rc = pfs_view_size(fs, n.rec, prof, &size);
		if (rc == 0)
			pfs_stat_fill(fs, ino, S_IFREG | 0444, size, st);
		return rc;
	default:
		return -ESTALE; /* a node of a replaced dataset */
	}
}

/* Parse "ID.txt" into a record index visible to profile prof. */
static int pfs_name_record(const struct pfs *fs, const char *name, int prof, size_t *rec)
{
	size_t len = strlen(name);
	long i;

	if (len <= 4 || strcmp(name + len - 4, ".txt") != 0 || fs->cfg->profiles[prof].nfields == 0)
		return -ENOENT;
	i = dataset_find(fs->ds, name, len - 4);
	if (i < 0 || !expiry_visible(fs->exp, (size_t)i, pfs_now(fs)))
		return -ENOENT;
	*rec = (size_t)i;
	return 0;
}

/* ------------------------------------------------------------ operations */

static void pfs_lookup_in(fuse_req_t req, struct pfs *fs, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int prof = pfs_caller_profile(req, fs), rc;
	size_t rec = 0;

	memset(&e, 0, sizeof(e));
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (prof < 0) {
		char path[NAME_MAX + 2];
		snprintf(path, sizeof(path), "/%s", name);
		pfs_audit(req, fs, "lookup", pfs_denial(prof), prof, path, -1, false);
		fuse_reply_err(req, EACCES);
		return;
	}
	if (strcmp(name, FS_INFO_NAME) == 0) {
		e.ino = fs->gen_base + 2 + (fuse_ino_t)prof;
		rc = pfs_node_stat(fs, pfs_node_of(fs, e.ino), prof, e.ino, &e.attr);
	} else {
		rc = pfs_name_record(fs, name, prof, &rec);
		e.ino = pfs_view_ino(fs, rec, prof);
		if (rc == 0)
			rc = pfs_node_stat(fs, pfs_node_of(fs, e.ino), prof, e.ino, &e.attr);
		e.attr_timeout = PFS_ATTR_TIMEOUT;
	}
	e.entry_timeout = 0;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void pfs_getattr_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	struct stat st;
	int prof = n.kind == PFS_ROOT ? PROFILE_NONE : pfs_caller_profile(req, fs);
	int rc = pfs_node_stat(fs, n, prof, ino, &st);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, n.kind == PFS_VIEW ? PFS_ATTR_TIMEOUT : 0);
}

static void pfs_open_denied(fuse_req_t req, const struct pfs *fs, struct pfs_node n, int prof,
			    const char *reason)
{
	char path[DATASET_ID_MAX + 16];

	pfs_node_path(fs, n, path, sizeof(path));
	pfs_audit(req, fs, "open", reason, prof, path, n.kind == PFS_VIEW ? (long)n.rec : -1,
		  false);
}

/* The allowed open's line, after the rate limit. -EACCES when over the limit, -EIO
 * when the line cannot be made durable: nothing is disclosed then. */
static int pfs_open_audit(fuse_req_t req, const struct pfs *fs, struct pfs_node n, int prof)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[DATASET_ID_MAX + 16];

	pfs_node_path(fs, n, path, sizeof(path));
	if (!audit_rate_take(fs->audit, ctx->uid, ctx->pid, pfs_profile_name(fs, prof))) {
		pfs_audit(req, fs, "open", "rate limit", prof, path,
			  n.kind == PFS_VIEW ? (long)n.rec : -1, false);
		return -EACCES;
	}
	if (pfs_audit(req, fs, "open", NULL, prof, path, n.kind == PFS_VIEW ? (long)n.rec : -1,
		      n.kind == PFS_VIEW) < 0)
		return -EIO;
	return 0;
}

static void pfs_open_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	struct stat st;
	int prof, rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (n.kind == PFS_ROOT) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	prof = pfs_caller_profile(req, fs);
	rc = prof < 0 ? -EACCES : pfs_node_stat(fs, n, prof, ino, &st);
	if (rc == -EACCES)
		pfs_open_denied(req, fs, n, prof,
				prof < 0 ? pfs_denial(prof) : "not the caller's view");
	else if (rc == 0)
		rc = pfs_open_audit(req, fs, n, prof);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->direct_io = n.kind == PFS_INFO;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void pfs_read_info(fuse_req_t req, const struct pfs *fs, int prof, size_t size, off_t off)
{
	char buf[8192];
	size_t len = pfs_render_info(fs, prof, buf, sizeof(buf));

	if (len > sizeof(buf))
		len = sizeof(buf);
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, buf + off, len - (size_t)off < size ? len - (size_t)off : size);
}

static void pfs_read_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	const char *out;
	size_t len;
	int rc;

	if (n.kind == PFS_INFO) {
		pfs_read_info(req, fs, n.prof, size, off);
		return;
	}
	if (n.kind != PFS_VIEW || !expiry_visible(fs->exp, n.rec, pfs_now(fs))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = pfs_render_view(fs, n.rec, n.prof, &out, &len);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, out + off, len - (size_t)off < size ? len - (size_t)off : size);
	pfs_render_done(out, len);
}

static void pfs_opendir_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	int prof;

	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	prof = pfs_caller_profile(req, fs);
	if (prof < 0) {
		pfs_audit(req, fs, "list", pfs_denial(prof), prof, "/", -1, false);
		fuse_reply_err(req, EACCES);
		return;
	}
	if (pfs_audit(req, fs, "list", NULL, prof, "/", -1, false) < 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	/* The listing belongs to the opener's profile in this generation: a reload
	 * may renumber profiles, so the handle carries both. */
	fi->fh = fs->gen << 32 | (uint64_t)prof;
	fuse_reply_open(req, fi);
}

/* Add one entry; returns false when the buffer is full. */
static bool pfs_dir_add(fuse_req_t req, char *buf, size_t size, size_t *pos, const char *name,
			fuse_ino_t ino, mode_t mode, off_t next)
{
	struct stat st = {.st_ino = ino, .st_mode = mode};
	size_t need = fuse_add_direntry(req, buf + *pos, size - *pos, name, &st, next);

	if (need > size - *pos)
		return false;
	*pos += need;
	return true;
}

/* Offsets: 0 ".", 1 "..", 2 the information file, 3 + i record i. */
static void pfs_readdir_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	int prof = (int)(fi->fh & 0xffffffffu);
	char *buf = NULL, name[DATASET_ID_MAX + 8];
	int64_t now = pfs_now(fs);
	size_t pos = 0;
	bool more = true;

	if (fi->fh >> 32 != fs->gen) {
		fuse_reply_err(req, ESTALE); /* opened before a reload */
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off == 0)
		more = pfs_dir_add(req, buf, size, &pos, ".", FUSE_ROOT_ID, S_IFDIR, 1);
	if (more && off <= 1)
		more = pfs_dir_add(req, buf, size, &pos, "..", FUSE_ROOT_ID, S_IFDIR, 2);
	if (more && off <= 2)
		more = pfs_dir_add(req, buf, size, &pos, FS_INFO_NAME,
				   fs->gen_base + 2 + (fuse_ino_t)prof, S_IFREG, 3);
	for (size_t i = off > 3 ? (size_t)off - 3 : 0;
	     more && fs->cfg->profiles[prof].nfields && i < fs->nrec; i++) {
		size_t il;
		const char *id;
		if (!expiry_visible(fs->exp, i, now))
			continue;
		id = dataset_record_id(fs->ds, i, &il);
		memcpy(name, id, il);
		memcpy(name + il, ".txt", 5);
		more = pfs_dir_add(req, buf, size, &pos, name, pfs_view_ino(fs, i, prof), S_IFREG,
				   (off_t)(i + 4));
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

/* The value of one of our attributes on a view. */
static void pfs_xattr_value(const struct pfs *fs, struct pfs_node n, const char *name, char *val,
			    size_t cap)
{
	int32_t day;

	if (strcmp(name, PFS_XATTR_DEADLINE) == 0) {
		/* The civil day at whose start the record disappears. */
		clock_day_of(fs->t->timezone, expiry_record_end(fs->exp, n.rec), &day);
		clock_format_date(day, val);
	} else {
		snprintf(val, cap, "%s", expiry_record_reason(fs->exp, n.rec));
	}
}

static void pfs_getxattr_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, const char *name,
			    size_t size)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	char val[64], path[DATASET_ID_MAX + 16];
	size_t len;
	int prof;

	if (n.kind != PFS_VIEW ||
	    (strcmp(name, PFS_XATTR_DEADLINE) != 0 && strcmp(name, PFS_XATTR_REASON) != 0)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	prof = pfs_caller_profile(req, fs);
	pfs_node_path(fs, n, path, sizeof(path));
	/* Only a read of the value is logged, not the size probe that precedes it. */
	if (prof == n.prof && size == 0 && expiry_visible(fs->exp, n.rec, pfs_now(fs))) {
		pfs_xattr_value(fs, n, name, val, sizeof(val));
		fuse_reply_xattr(req, strlen(val));
		return;
	}
	if (prof != n.prof || !expiry_visible(fs->exp, n.rec, pfs_now(fs))) {
		pfs_audit(req, fs, "xattr", prof < 0 ? pfs_denial(prof) : "not the caller's view",
			  prof, path, (long)n.rec, false);
		fuse_reply_err(req, EACCES);
		return;
	}
	if (pfs_audit(req, fs, "xattr", NULL, prof, path, (long)n.rec, false) < 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	pfs_xattr_value(fs, n, name, val, sizeof(val));
	len = strlen(val);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

static void pfs_listxattr_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, size_t size)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	static const char names[] = PFS_XATTR_DEADLINE "\0" PFS_XATTR_REASON;
	size_t len = n.kind == PFS_VIEW ? sizeof(names) : 0;

	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
}

static void pfs_access_in(fuse_req_t req, struct pfs *fs, fuse_ino_t ino, int mask)
{
	struct pfs_node n = pfs_node_of(fs, ino);
	int prof = pfs_caller_profile(req, fs);
	struct stat st;
	int rc;

	if (mask & W_OK) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (prof < 0) {
		pfs_audit(req, fs, "access", pfs_denial(prof), prof, "/", -1, false);
		fuse_reply_err(req, EACCES);
		return;
	}
	rc = n.kind == PFS_ROOT ? 0 : pfs_node_stat(fs, n, prof, ino, &st);
	if (rc == 0 && n.kind != PFS_ROOT && (mask & X_OK))
		rc = -EACCES;
	fuse_reply_err(req, -rc);
}

/* ------------------------------------------------------------ entry points
 *
 * Each takes the daemon's read lock for the request: a reload swaps the
 * generation under the write lock, so one request never sees two datasets. */

static void pfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_lookup_in(req, pfs_enter(d), parent, name);
	pfs_leave(d);
}

static void pfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_getattr_in(req, pfs_enter(d), ino, fi);
	pfs_leave(d);
}

static void pfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_open_in(req, pfs_enter(d), ino, fi);
	pfs_leave(d);
}

static void pfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_read_in(req, pfs_enter(d), ino, size, off, fi);
	pfs_leave(d);
}

static void pfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_opendir_in(req, pfs_enter(d), ino, fi);
	pfs_leave(d);
}

static void pfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_readdir_in(req, pfs_enter(d), ino, size, off, fi);
	pfs_leave(d);
}

static void pfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_getxattr_in(req, pfs_enter(d), ino, name, size);
	pfs_leave(d);
}

static void pfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_listxattr_in(req, pfs_enter(d), ino, size);
	pfs_leave(d);
}

static void pfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct pfs_daemon *d = fuse_req_userdata(req);

	pfs_access_in(req, pfs_enter(d), ino, mask);
	pfs_leave(d);
}

/* Every mutating operation: the file system is read-only, whatever the mount says. */
static void pfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		       const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void pfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			  struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops pfs_ops = {
    .lookup = pfs_lookup,
    .getattr = pfs_getattr,
    .open = pfs_open,
    .read = pfs_read,
    .opendir = pfs_opendir,
    .readdir = pfs_readdir,
    .getxattr = pfs_getxattr,
    .listxattr = pfs_listxattr,
    .access = pfs_access,
    .setattr = pfs_setattr,
    .mknod = pfs_mknod,
    .mkdir = pfs_mkdir,
    .unlink = pfs_unlink,
    .rmdir = pfs_unlink,
    .symlink = pfs_symlink,
    .rename = pfs_rename,
    .link = pfs_link,
    .write = pfs_write,
    .setxattr = pfs_setxattr,
    .removexattr = pfs_unlink,
    .create = pfs_create,
    .fallocate = pfs_fallocate,
};

/* ------------------------------------------------------------ session */

/* ------------------------------------------------------------ generations */

static void pfs_gen_free(struct pfs *fs)
{
	if (!fs)
		return;
	free((void *)fs->sizes);
	service_close(fs->svc);
	free(fs);
}

/* A generation over svc (taken over, freed with it). */
static struct pfs *pfs_gen_new(struct service *svc, struct pfs_daemon *d, uint64_t gen)
{
	struct pfs *fs = calloc(1, sizeof(*fs));

	if (!fs) {
		service_close(svc);
		return NULL;
	}
	fs->svc = svc;
	fs->cfg = svc->cfg;
	fs->ds = svc->ds;
	fs->t = dataset_terms(svc->ds);
	fs->exp = svc->exp;
	fs->mark = d->mark;
	fs->audit = d->audit;
	fs->nprof = svc->cfg->nprofiles;
	fs->nrec = dataset_count(svc->ds);
	fs->gen = gen;
	fs->gen_base = (fuse_ino_t)gen << PFS_GEN_SHIFT;
	fs->view_base = fs->gen_base + 2 + fs->nprof;
	fs->issued_at = fs->t->issued_at;
	for (size_t p = 0; p < fs->nprof; p++)
		for (unsigned i = 0; i < fs->cfg->profiles[p].nfields; i++)
			fs->fields[p][i] = fs->t->fields[fs->cfg->profiles[p].field[i]];
	fs->sizes = calloc(fs->nrec * fs->nprof + 1, sizeof(*fs->sizes));
	if (!fs->sizes) {
		pfs_gen_free(fs);
		return NULL;
	}
	return fs;
}

/* ------------------------------------------------------------ audit lifecycle */

static int pfs_audit_open(struct pfs_daemon *d, const struct config *c, char *err, size_t errlen)
{
	struct audit_opts o;

	service_audit_opts(c, &o);
	return audit_open(&d->audit, &o, err, errlen);
}

/* A lifecycle line: mount, unmount, config, reload, expire, purge, notice, clock. */
static int pfs_audit_life(struct audit *a, const char *event, const char *result,
			  const char *reason, const char *record, const char *detail)
{
	struct audit_event ev = {
	    .event = event, .result = result, .reason = reason, .record = record, .detail = detail};

	return audit_append(a, &ev);
}

/* The config line: its profiles and digest, and the digest it replaces (was),
 * so that every change of who may see what is on the record (Art. 4). */
static int pfs_audit_config(const struct pfs *fs, const struct config *was)
{
	char d[PATH_MAX + CONFIG_PROFILES_MAX * (CONFIG_NAME_MAX + 1) + 200];
	char hex[2 * CONFIG_DIGEST_BYTES + 1], old[2 * CONFIG_DIGEST_BYTES + 1];
	size_t off = (size_t)snprintf(d, sizeof(d), "config %s; profiles:", fs->cfg->path);

	for (size_t p = 0; p < fs->nprof && off < sizeof(d); p++)
		off += (size_t)snprintf(d + off, sizeof(d) - off, " %s", fs->cfg->profiles[p].name);
	config_digest_hex(fs->cfg, hex);
	if (off < sizeof(d))
		off += (size_t)snprintf(d + off, sizeof(d) - off, "; digest %s", hex);
	if (was && off < sizeof(d)) {
		config_digest_hex(was, old);
		snprintf(d + off, sizeof(d) - off, " (was %s)", old);
	}
	return pfs_audit_life(fs->audit, "config", NULL, NULL, NULL, d);
}

static int pfs_audit_mount(const struct pfs *fs, const char *mnt)
{
	char d[PATH_MAX * 2 + 256];

	if (pfs_audit_config(fs, NULL) < 0)
		return -EIO;
	snprintf(d, sizeof(d), "mounted at %s: dataset %s, protocol %s, serial %llu, %zu records",
		 mnt, fs->cfg->dataset, fs->t->protocol_id, (unsigned long long)fs->t->serial,
		 dataset_present(fs->ds));
	return pfs_audit_life(fs->audit, "mount", NULL, NULL, NULL, d) < 0 ? -EIO : 0;
}

/* ------------------------------------------------------------ notices */

struct pfs_notice_ctx {
	struct pfs_daemon *d;
	bool changed;
};

static void pfs_notice_report(void *arg, const char *file, int rc, int64_t at, const char *msg)
{
	struct pfs_notice_ctx *c = arg;
	char detail[600], when[21];

	if (rc == 0) {
		clock_format_utc(at, when);
		snprintf(detail, sizeof(detail), "termination notice %s: nothing is shown from %s",
			 file, when);
		pfs_audit_life(c->d->audit, "notice", "allowed", NULL, NULL, detail);
		c->changed = true;
	} else {
		snprintf(detail, sizeof(detail), "termination notice %s refused: %s", file, msg);
		pfs_audit_life(c->d->audit, "notice", "denied", "invalid notice", NULL, detail);
		audit_say(c->d->audit, LOG_WARNING, "%s", detail);
	}
}

/* ------------------------------------------------------------ invalidation */

/* Drop record rec of generation fs from the kernel's caches: its name, and the
 * node of every profile's view that was ever rendered (only those can be cached). */
static void pfs_forget_record(struct pfs_daemon *d, const struct pfs *fs, size_t rec)
{
	char name[DATASET_ID_MAX + 8];
	size_t il;
	const char *id = dataset_record_id(fs->ds, rec, &il);

	memcpy(name, id, il);
	memcpy(name + il, ".txt", 5);
	fuse_lowlevel_notify_inval_entry(d->se, FUSE_ROOT_ID, name, il + 4);
	for (size_t p = 0; p < fs->nprof; p++)
		if (atomic_load_explicit(&fs->sizes[rec * fs->nprof + p], memory_order_relaxed))
			fuse_lowlevel_notify_inval_inode(d->se, pfs_view_ino(fs, rec, (int)p), 0,
							 0);
}

/* ------------------------------------------------------------ expiry */

struct pfs_expired {
	size_t *rec;
	size_t n, cap;
};

static void pfs_expired_add(void *arg, size_t rec)
{
	struct pfs_expired *x = arg;

	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 64;
		size_t *r = realloc(x->rec, nc * sizeof(*r));
		if (!r)
			return; /* the records are hidden anyway; only the cache flush is lost */
		x->rec = r;
		x->cap = nc;
	}
	x->rec[x->n++] = rec;
}

/* One "expire" line for the run of records x->rec[i..j) that share an end
 * instant and reason; the record id is given when the run is one record. */
static void pfs_expire_line(struct pfs_daemon *d, const struct pfs *fs, const size_t *rec, size_t n)
{
	char detail[200], when[21], id[DATASET_ID_MAX + 1] = "";
	size_t il = 0;
	const char *p;

	clock_format_utc(expiry_record_end(fs->exp, rec[0]), when);
	if (n == 1) {
		p = dataset_record_id(fs->ds, rec[0], &il);
		snprintf(id, sizeof(id), "%.*s", (int)il, p);
	}
	snprintf(detail, sizeof(detail), "%zu record%s no longer shown from %s (%s)", n,
		 n == 1 ? "" : "s", when, expiry_record_reason(fs->exp, rec[0]));
	pfs_audit_life(d->audit, "expire", NULL, NULL, n == 1 ? id : NULL, detail);
}

/* Records visible at `from` (under termination instant `term`) and no longer
 * at now: flush them from the kernel and log one "expire" line per deadline
 * instant. Returns how many. */
static size_t pfs_expire_since(struct pfs_daemon *d, int64_t from, int64_t term, int64_t now)
{
	struct pfs_expired x = {0};
	struct pfs *fs = pfs_enter(d);
	size_t n = expiry_ended(fs->exp, from, term, now, pfs_expired_add, &x);

	for (size_t i = 0; i < x.n; i++)
		pfs_forget_record(d, fs, x.rec[i]);
	for (size_t i = 0, j; i < x.n; i = j) {
		int64_t end = expiry_record_end(fs->exp, x.rec[i]);
		const char *why = expiry_record_reason(fs->exp, x.rec[i]);
		for (j = i + 1; j < x.n && expiry_record_end(fs->exp, x.rec[j]) == end &&
				strcmp(expiry_record_reason(fs->exp, x.rec[j]), why) == 0;
		     j++)
			;
		pfs_expire_line(d, fs, x.rec + i, j - i);
	}
	if (n > x.n) /* out of memory for the list: still say how many ended */
		pfs_audit_life(d->audit, "expire", NULL, NULL, NULL, "records no longer shown");
	pfs_leave(d);
	free(x.rec);
	return n;
}

/* Records whose time ended in (from, now]. (The keeper is the only writer of
 * d->cur and of the termination instant: no lock needed to read them here.) */
static size_t pfs_expire(struct pfs_daemon *d, int64_t from, int64_t now)
{
	return pfs_expire_since(d, from, expiry_termination(d->cur->exp), now);
}

/* With purge = auto (else nothing): cut the expired records out of the file at
 * rest. The keeper
 * notices the rewritten file and reloads it (same serial, fewer records). */
static void pfs_purge(struct pfs_daemon *d, int64_t now)
{
	struct pfs *fs = pfs_enter(d);
	uint8_t *drop = NULL;
	char err[512] = "out of memory", detail[700];
	int rc = 0;

	if (strcmp(fs->cfg->purge, "auto") == 0) {
		drop = calloc(fs->nrec + 1, 1);
		rc = drop ? 0 : -ENOMEM;
	}
	if (drop && expiry_purgeable(fs->exp, now, drop))
		rc = dataset_purge_write(fs->ds, drop, fs->cfg->dataset, err, sizeof(err));
	pfs_leave(d);
	free(drop);
	if (rc == 0)
		return; /* nothing to cut, or the reload of the rewritten file logs the purge */
	snprintf(detail, sizeof(detail), "purge failed: %s", err);
	pfs_audit_life(d->audit, "purge", "denied", "write failed", NULL, detail);
	audit_say(d->audit, LOG_ERR, "%s", detail);
}

/* ------------------------------------------------------------ notices */

/* Read new notices into the current generation (under the read lock: the
 * termination instant is atomic in the expiry). A notice already in force when
 * it is read (dated today: "stop now") ends, at once, every record that was
 * visible at the keeper's last pass: flushed and logged as the deadline pass
 * would have, and purged when purge = auto. A later one is met by the normal
 * deadline pass. */
static void pfs_notices(struct pfs_daemon *d, int64_t last, int64_t now)
{
	struct pfs_notice_ctx c = {d, false};
	struct pfs *fs = pfs_enter(d);
	int64_t before = expiry_termination(fs->exp), after;

	service_notices(fs->svc, &d->seen, pfs_notice_report, &c);
	after = expiry_termination(fs->exp);
	pfs_leave(d);
	if (after < before && after <= last && pfs_expire_since(d, last, before, now))
		pfs_purge(d, now);
}

/* ------------------------------------------------------------ reload */

/* After the swap: everything the old generation ever rendered is flushed from
 * the kernel at once: a person withdrawn (Art. 2) and, for a person still shown,
 * the old generation's pages, which the keeper's later deadline passes (on the
 * new generation) would never reach, and which a config change may have made
 * wrong (fields, labels, who may enter). Returns how many records are gone. */
static size_t pfs_reload_forget(struct pfs_daemon *d, const struct pfs *old, const struct pfs *nw,
				int64_t now)
{
	size_t gone = 0, il;

	for (size_t i = 0; i < old->nrec; i++) {
		const char *id = dataset_record_id(old->ds, i, &il);
		long j;
		if (!expiry_visible(old->exp, i, now))
			continue; /* flushed when it ended */
		pfs_forget_record(d, old, i);
		j = dataset_find(nw->ds, id, il);
		gone += !(j >= 0 && expiry_visible(nw->exp, (size_t)j, now));
	}
	return gone;
}

static void pfs_reload_log(struct pfs_daemon *d, const struct pfs *old, const struct pfs *nw,
			   enum service_change kind, size_t gone)
{
	size_t cut = dataset_present(old->ds) - dataset_present(nw->ds);
	char detail[300];

	if (kind == SERVICE_CONFIG)
		snprintf(detail, sizeof(detail),
			 "config changed, serial %llu unchanged: %zu records, %zu no longer shown",
			 (unsigned long long)nw->t->serial, dataset_present(nw->ds), gone);
	else if (kind == SERVICE_PURGED)
		snprintf(detail, sizeof(detail),
			 "%zu expired record%s cut from the dataset at rest (serial %llu): %zu "
			 "remain",
			 cut, cut == 1 ? "" : "s", (unsigned long long)nw->t->serial,
			 dataset_present(nw->ds));
	else
		snprintf(detail, sizeof(detail),
			 "serial %llu -> %llu: %zu records, %zu no longer shown",
			 (unsigned long long)old->t->serial, (unsigned long long)nw->t->serial,
			 dataset_present(nw->ds), gone);
	pfs_audit_life(d->audit, kind == SERVICE_PURGED ? "purge" : "reload", "allowed", NULL, NULL,
		       detail);
}

/* Load and verify the dataset (and config) anew and swap it in whole. */
static void pfs_reload(struct pfs_daemon *d, const char *why)
{
	struct service *nsvc = NULL;
	struct pfs *old = d->cur, *nw = NULL; /* only this thread writes d->cur */
	char err[1024], detail[1200];
	enum service_change kind = SERVICE_NEWER;
	bool cfg_changed;
	int64_t now;
	int rc = service_open(&nsvc, d->config_path, err, sizeof(err));

	if (rc == 0)
		rc = service_successor(old->svc, nsvc, &kind, err, sizeof(err));
	if (rc == 0 && !(nw = pfs_gen_new(nsvc, d, old->gen + 1))) /* it closes nsvc */
		rc = -ENOMEM, nsvc = NULL, snprintf(err, sizeof(err), "out of memory");
	if (rc == -EALREADY) { /* a SIGHUP for a log rotation: nothing to reload, no error */
		service_close(nsvc);
		snprintf(detail, sizeof(detail), "%s: %s", why, err);
		pfs_audit_life(d->audit, "reload", NULL, NULL, NULL, detail);
		return;
	}
	if (rc < 0) {
		service_close(nsvc);
		snprintf(detail, sizeof(detail), "%s: reload refused: %s", why, err);
		pfs_audit_life(d->audit, "reload", "denied", "dataset refused", NULL, detail);
		audit_say(d->audit, LOG_ERR, "%s", detail);
		return;
	}
	expiry_terminate(nw->exp, expiry_termination(old->exp));
	pthread_rwlock_wrlock(&d->lock);
	d->cur = nw;
	pthread_rwlock_unlock(&d->lock);
	audit_limits_set(d->audit, nw->cfg->audit_max_per_minute,
			 nw->cfg->audit_max_per_minute_profile);
	now = clock_mark_now(d->mark, NULL);
	cfg_changed = !config_same(old->cfg, nw->cfg);
	pfs_reload_log(d, old, nw, kind, pfs_reload_forget(d, old, nw, now));
	if (cfg_changed)
		pfs_audit_config(nw, old->cfg);
	if (service_serial_store(nw->svc, err, sizeof(err)) < 0)
		audit_say(d->audit, LOG_ERR, "%s", err);
	pfs_gen_free(old);
}

/* Has the dataset file been replaced or rewritten since it was loaded? */
static bool pfs_dataset_changed(struct pfs_daemon *d)
{
	struct stat st;
	const char *path = d->cur->cfg->dataset;

	if (stat(path, &st) < 0)
		return false;
	if (st.st_ino == d->ds_stat.st_ino && st.st_dev == d->ds_stat.st_dev &&
	    st.st_size == d->ds_stat.st_size && st.st_mtim.tv_sec == d->ds_stat.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == d->ds_stat.st_mtim.tv_nsec)
		return false;
	d->ds_stat = st;
	return true;
}

/* ------------------------------------------------------------ the keeper */

/* The wall clock is behind the high-water mark: log it once per jump. */
static void pfs_clock_check(struct pfs_daemon *d, int64_t behind)
{
	char detail[200];

	if (behind <= 2) {
		d->jump_logged = 0;
		return;
	}
	if (d->jump_logged && behind <= d->jump_logged + 2)
		return;
	d->jump_logged = behind;
	snprintf(detail, sizeof(detail),
		 "the wall clock is %lld s behind the latest time seen; keeping the later time "
		 "(nothing that expired comes back)",
		 (long long)behind);
	pfs_audit_life(d->audit, "clock", NULL, NULL, NULL, detail);
}

/* Sleep until the next deadline, or one second, or a reload request. */
static bool pfs_keeper_wait(struct pfs_daemon *d, int64_t now)
{
	struct pfs *fs = pfs_enter(d);
	int64_t next, wait_ms = 1000;
	struct timespec ts;
	bool reload;

	expiry_scan(fs->exp, now, &next);
	pfs_leave(d);
	if (next != INT64_MAX && (next - now) * 1000 < wait_ms)
		wait_ms = (next - now) * 1000 > 0 ? (next - now) * 1000 : 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (wait_ms % 1000) * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&d->keeper_mu);
	if (!d->stop && !d->reload_asked)
		pthread_cond_timedwait(&d->keeper_cv, &d->keeper_mu, &ts);
	reload = d->reload_asked;
	d->reload_asked = false;
	pthread_mutex_unlock(&d->keeper_mu);
	return reload;
}

/* Acts at each deadline (records vanish within a second), reads notices,
 * follows the clock's high-water mark, reloads a replaced dataset, and purges
 * when configured to. It reads the clock at least once a second, so a jump of
 * the clock is noticed, but never walks all records: only those that end. */
static void *pfs_keeper_main(void *arg)
{
	struct pfs_daemon *d = arg;
	int64_t behind, last = clock_mark_now(d->mark, NULL), now;
	bool stop = false;

	while (!stop) {
		bool asked = pfs_keeper_wait(d, last);
		now = clock_mark_now(d->mark, &behind);
		clock_mark_save(d->mark);
		pfs_clock_check(d, behind);
		pfs_notices(d, last, now);
		audit_tick(d->audit, false);
		/* always look, so a SIGHUP reload also records the file it loaded */
		bool changed = pfs_dataset_changed(d);
		if (asked || changed)
			pfs_reload(d, asked ? "SIGHUP" : "dataset file changed");
		if (now > last && pfs_expire(d, last, now))
			pfs_purge(d, now);
		last = now > last ? now : last;
		pthread_mutex_lock(&d->keeper_mu);
		stop = d->stop;
		pthread_mutex_unlock(&d->keeper_mu);
	}
	return NULL;
}

/* SIGHUP is blocked in every serving thread and taken here: reopen the log and
 * ask the keeper to reload the dataset. */
static void *pfs_signal_main(void *arg)
{
	struct pfs_daemon *d = arg;
	sigset_t set;
	char err[512];
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0 || sig == SIGUSR2)
			break;
		if (audit_reopen(d->audit, err, sizeof(err)) < 0)
			audit_say(d->audit, LOG_ERR, "audit log reopen: %s", err);
		pthread_mutex_lock(&d->keeper_mu);
		d->reload_asked = true;
		pthread_cond_signal(&d->keeper_cv);
		pthread_mutex_unlock(&d->keeper_mu);
	}
	return NULL;
}

/* ------------------------------------------------------------ session */

/* Keep the user's -o options except those that would weaken the mount. */
static int pfs_options(struct fuse_args *args, const char *user)
{
	char *copy = user ? strdup(user) : NULL, *save = NULL, *tok;
	int rc = 0;

	if (fuse_opt_add_arg(args, "protocolfs") || fuse_opt_add_arg(args, "-o") ||
	    fuse_opt_add_arg(args, "ro,nosuid,nodev,noexec,fsname=protocolfs,subtype=protocolfs"))
		rc = -ENOMEM;
	if (user && !copy)
		rc = -ENOMEM;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; rc == 0 && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "rw") || !strcmp(tok, "suid") || !strcmp(tok, "dev") ||
		    !strcmp(tok, "exec") || !strcmp(tok, "ro"))
			continue;
		if (fuse_opt_add_arg(args, "-o") || fuse_opt_add_arg(args, tok))
			rc = -ENOMEM;
	}
	free(copy);
	return rc;
}

/* Serve until unmounted or signalled, with the keeper and signal threads. */
static int pfs_run(struct pfs_daemon *d, const struct fs_mount_opts *o, char *err, size_t errlen)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	pthread_t keeper, sig;
	int rc;

	if (!lc || pthread_create(&sig, NULL, pfs_signal_main, d) != 0) {
		fuse_loop_cfg_destroy(lc);
		util_errf(err, errlen, "cannot start the daemon's threads");
		return -EAGAIN;
	}
	if (pthread_create(&keeper, NULL, pfs_keeper_main, d) != 0) {
		pthread_kill(sig, SIGUSR2);
		pthread_join(sig, NULL);
		fuse_loop_cfg_destroy(lc);
		util_errf(err, errlen, "cannot start the daemon's threads");
		return -EAGAIN;
	}
	if (o->on_ready)
		o->on_ready(o->arg);
	/* A positive result is the number of the signal that ended the loop: clean. */
	rc = fuse_session_loop_mt(d->se, lc);
	if (rc < 0)
		util_errf(err, errlen, "session loop ended with an error: %s", strerror(-rc));
	pthread_mutex_lock(&d->keeper_mu);
	d->stop = true;
	pthread_cond_signal(&d->keeper_cv);
	pthread_mutex_unlock(&d->keeper_mu);
	pthread_join(keeper, NULL);
	pthread_kill(sig, SIGUSR2);
	pthread_join(sig, NULL);
	fuse_loop_cfg_destroy(lc);
	return rc < 0 ? rc : 0;
}

/* Mount and serve. */
static int pfs_loop(struct pfs_daemon *d, struct fuse_args *args, const struct fs_mount_opts *o,
		    char *err, size_t errlen)
{
	int rc = -EINVAL;

	d->se = fuse_session_new(args, &pfs_ops, sizeof(pfs_ops), d);
	if (!d->se) {
		util_errf(err, errlen, "invalid mount options");
		return rc;
	}
	if (fuse_set_signal_handlers(d->se) != 0) {
		util_errf(err, errlen, "cannot set signal handlers");
		goto out_destroy;
	}
	if (fuse_session_mount(d->se, o->mountpoint) != 0) {
		util_errf(err, errlen, "%s: cannot mount", o->mountpoint);
		goto out_signals;
	}
	if (pfs_audit_mount(d->cur, o->mountpoint) < 0) {
		util_errf(err, errlen, "%s: cannot write the audit log", d->cur->cfg->audit_log);
		goto out_unmount;
	}
	rc = pfs_run(d, o, err, errlen);
	pfs_audit_life(d->audit, "unmount", NULL, NULL, NULL, o->mountpoint);
out_unmount:
	fuse_session_unmount(d->se);
out_signals:
	fuse_remove_signal_handlers(d->se);
out_destroy:
	fuse_session_destroy(d->se);
	return rc;
}

/* Everything that must hold before mounting: the audit log, the time mark, the
 * serial, and a protocol that is in force (notices included). */
static int pfs_prepare(struct pfs_daemon *d, struct service *svc, char *err, size_t errlen)
{
	int rc = clock_mark_open(&d->mark, svc->cfg->state_dir, err, errlen);

	if (rc == 0)
		clock_tz_adopt(dataset_terms(svc->ds)->timezone); /* before any thread */
	/* outside the window: refused before the audit log is even opened */
	if (rc == 0)
		rc = expiry_in_force(svc->exp, dataset_terms(svc->ds),
				     clock_mark_now(d->mark, NULL), err, errlen);
	if (rc == 0)
		rc = service_serial_check(svc, err, errlen);
	if (rc == 0)
		rc = pfs_audit_open(d, svc->cfg, err, errlen);
	if (rc == 0 && !(d->cur = pfs_gen_new(svc, d, 0))) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (rc < 0) {
		service_close(svc);
		return rc;
	}
	stat(svc->cfg->dataset, &d->ds_stat);
	pfs_notices(d, INT64_MIN, 0); /* before serving: nothing to flush yet */
	rc = expiry_in_force(svc->exp, d->cur->t, clock_mark_now(d->mark, NULL), err, errlen);
	return rc < 0 ? rc : service_serial_store(svc, err, errlen);
}

int fs_serve(struct service *svc, const struct fs_mount_opts *o, char *err, size_t errlen)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct pfs_daemon *d = calloc(1, sizeof(*d));
	sigset_t set, old;
	int rc = d ? 0 : -ENOMEM;

	if (!d) {
		service_close(svc);
		util_errf(err, errlen, "out of memory");
		return rc;
	}
	pthread_rwlock_init(&d->lock, NULL);
	pthread_mutex_init(&d->keeper_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->keeper_cv, &ca);
	snprintf(d->config_path, sizeof(d->config_path), "%s", svc->cfg->path);
	d->seen.record = true; /* the daemon records an accepted termination durably */
	/* SIGHUP (reopen, reload) is taken by the signal thread alone: block it before
	 * any thread starts (the audit's flusher too), so that every thread inherits
	 * the mask and libfuse's handler never sees it. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = pfs_prepare(d, svc, err, errlen);
	if (rc == 0 && (rc = pfs_options(&args, o->options)) < 0)
		util_errf(err, errlen, "out of memory");
	if (rc == 0)
		rc = pfs_loop(d, &args, o, err, errlen);
	fuse_opt_free_args(&args);
	pfs_gen_free(d->cur);
	audit_close(d->audit);
	clock_mark_close(d->mark);
	service_seen_free(&d->seen);
	pthread_cond_destroy(&d->keeper_cv);
	pthread_mutex_destroy(&d->keeper_mu);
	pthread_rwlock_destroy(&d->lock);
	free(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
