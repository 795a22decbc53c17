/* audit.c — the audit log writer (contract in audit.h).
 *
 * Lock order: a->mu, or a->users_mu alone, never both (see struct audit for
 * which guards what); fdatasync runs without a->mu (group commit: appends go on
 * while one thread flushes for all of them). The line is written with one
 * write(2) on an O_APPEND descriptor before the caller answers the kernel, so a
 * killed daemon loses nothing it allowed. The state file holds the current key,
 * the next sequence number and the hash of the last line; it is rewritten in
 * place after every append (no fsync: on restart the log's tail is replayed
 * from the state, so a state that lags is caught up, and one that runs ahead of
 * the log is refused). */
#include "audit.h"
#include "clock.h"
#include "ratelimit.h"
#include "slog.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAGIC    "PFSAUDS1"
#define STATE_SIZE     128
#define LINE_MAX_BYTES 8192
#define RATCHET_LABEL  "protocolfs audit ratchet v1"
#define USER_TTL_MS    60000 /* a cached user name is looked up again after this */
/* Denied requests written in full per caller, reason and profile in any 60 s;
 * the rest are counted and written as one "denials" line (see audit_tick). */
#define DENIALS_IN_FULL 20
/* Longest caller-chosen file name written in a denied line, in bytes. */
#define DENIED_NAME_MAX 100

struct audit_user {
	uid_t uid;
	bool used;
	int64_t at_ms; /* monotonic, when looked up */
	char name[64];
};

/* Who guards what. Set once in audit_open before any thread can see the struct,
 * then read-only: o, log_path, state_path, lock_fd, has_flusher, flusher, slog,
 * and the limiter pointers rl_user, rl_profile, rl_denial (each limiter guards
 * itself with its own mutex, never taken together with mu: the verdict comes
 * first, the line after). max_user and max_profile are atomic. Guarded by mu:
 * fd, dev, ino, end, seq, prev, key, state_buf, state_fd (its bytes), written,
 * flushed, flushing, latch_noted, latch_from, latch_to, stop, and the syslog
 * counters sl_*. fd is the log descriptor: while flushing is true, one thread
 * runs fdatasync on it without mu, so nobody may close or replace fd until
 * flushing is false again (audit_flush_wait: rotation and reopen wait for it).
 * latched (a flush failed) and refused (the file at the path failed its
 * owner/mode check) are written under mu and read with or without it, always
 * through __atomic loads and stores. users_mu guards users, users_cap and
 * nusers only; it is never held across getpwuid_r (the lookup runs with no lock
 * held, before mu is taken) and never together with mu. was_latched is read
 * only at start. */
struct audit {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* with mu: flushed, flushing, stop changed */
	struct audit_opts o;
	char log_path[4096];
	char state_path[4096];
	int fd, state_fd, lock_fd;
	dev_t dev;
	ino_t ino;
	off_t end;    /* offset after the last whole line */
	uint64_t seq; /* of the next line */
	uint8_t prev[AUDIT_HASH_BYTES];
	uint8_t *key;	    /* sodium_malloc: key of line seq */
	uint8_t *state_buf; /* sodium_malloc: the state file's bytes while writing */
	uint64_t written;   /* last seq written */
	uint64_t flushed;   /* last seq known durable */
	bool flushing;	    /* a thread runs fdatasync(fd) without mu */
	bool latched;	    /* atomic: a flush failed: refuse until restart */
	bool refused;	    /* atomic: the log at the path was refused: until restart */
	bool latch_noted;   /* the flush-failed line has been attempted */
	bool was_latched;   /* the previous run stopped latched (from the state) */
	uint64_t latch_from, latch_to;
	bool stop;
	pthread_t flusher;
	bool has_flusher;
	pthread_mutex_t users_mu;
	struct audit_user *users; /* open addressing by uid, at most half full */
	size_t users_cap, nusers;
	struct ratelimit *rl_user;	/* opens per uid */
	struct ratelimit *rl_profile;	/* opens per profile */
	struct ratelimit *rl_denial;	/* denied lines per (uid, reason, profile) */
	unsigned max_user, max_profile; /* atomic: the limits now; 0 = none */
	struct slog *slog;		/* set in audit_open, then read-only; NULL: no syslog */
	uint64_t sl_failed;		/* mu: audit lines syslog did not take */
	uint64_t sl_said;		/* mu: how many of them the log has said */
	int64_t sl_said_ms;		/* mu: when that was (monotonic ms), 0: never */
	int sl_errno;			/* mu: the last failure */
};

static bool audit_latched(struct audit *a)
{
	return __atomic_load_n(&a->latched, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&a->refused, __ATOMIC_ACQUIRE);
}

/* Under a->mu. */
static void audit_latch_set(struct audit *a)
{
	__atomic_store_n(&a->latched, true, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ crypto */

void audit_line_mac(uint8_t mac[AUDIT_HASH_BYTES], const uint8_t key[AUDIT_KEY_BYTES],
		    const char *line, size_t len)
{
	crypto_generichash(mac, AUDIT_HASH_BYTES, (const uint8_t *)line, len, key, AUDIT_KEY_BYTES);
}

void audit_key_ratchet(uint8_t key[AUDIT_KEY_BYTES])
{
	uint8_t next[AUDIT_KEY_BYTES];

	crypto_generichash(next, sizeof(next), (const uint8_t *)RATCHET_LABEL,
			   sizeof(RATCHET_LABEL) - 1, key, AUDIT_KEY_BYTES);
	memcpy(key, next, AUDIT_KEY_BYTES);
	sodium_memzero(next, sizeof(next));
}

/* ------------------------------------------------------------ JSON */

struct jbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void j_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* The length of the well-formed UTF-8 sequence at c (1..4), or 0 when the
 * byte at c does not start one: overlong forms, surrogates (U+D800..DFFF),
 * code points above U+10FFFF and truncated sequences are all refused (RFC 3629,
 * table 3-7 of the Unicode standard). c is NUL-terminated. */
static size_t j_utf8_len(const unsigned char *c)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c[0] < 0x80)
		return 1;
	if (c[0] >= 0xc2 && c[0] <= 0xdf)
		n = 2;
	else if (c[0] >= 0xe0 && c[0] <= 0xef)
		n = 3, lo = c[0] == 0xe0 ? 0xa0 : 0x80, hi = c[0] == 0xed ? 0x9f : 0xbf;
	else if (c[0] >= 0xf0 && c[0] <= 0xf4)
		n = 4, lo = c[0] == 0xf0 ? 0x90 : 0x80, hi = c[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (c[1] < lo || c[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (c[i] < 0x80 || c[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string that is valid UTF-8 whatever s holds: '"' and '\\' escaped,
 * control bytes (< 0x20, 0x7f) and every byte that is not part of a well-formed
 * UTF-8 sequence written as \u00XX (lossy: byte 0xff and U+00FF both read
 * back as "\u00ff"; see README.md, "Audit lines"). */
static void j_str(struct jbuf *b, const char *s)
{
	char esc[8];

	if (!s) {
		j_raw(b, "null", 4);
		return;
	}
	j_raw(b, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t n = j_utf8_len(c);
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\', esc[1] = (char)*c;
			j_raw(b, esc, 2);
		} else if (n == 0 || *c < 0x20 || *c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			j_raw(b, esc, 6);
		} else {
			j_raw(b, (const char *)c, n);
		}
		c += n ? n : 1;
	}
	j_raw(b, "\"", 1);
}

ssize_t audit_json_string(char *out, size_t cap, const char *s)
{
	struct jbuf b = {out, 0, cap, false};

	if (cap == 0)
		return -E2BIG;
	out[0] = 0;
	j_str(&b, s);
	return b.overflow ? -E2BIG : (ssize_t)b.len;
}

static void j_key(struct jbuf *b, const char *k)
{
	j_raw(b, ",\"", 2);
	j_raw(b, k, strlen(k));
	j_raw(b, "\":", 2);
}

static void j_num(struct jbuf *b, long long v)
{
	char n[32];

	j_raw(b, n, (size_t)snprintf(n, sizeof(n), "%lld", v));
}

static void j_hex(struct jbuf *b, const uint8_t *bytes, size_t n)
{
	char hex[2 * 64 + 1];

	sodium_bin2hex(hex, sizeof(hex), bytes, n);
	j_raw(b, hex, 2 * n);
}

/* ------------------------------------------------------------ callers */

/* Under users_mu: the slot of uid (found, or the empty one to fill). */
static struct audit_user *audit_user_slot(struct audit *a, uid_t uid)
{
	size_t i = (uid * 2654435761u) & (a->users_cap - 1);

	while (a->users[i].used && a->users[i].uid != uid)
		i = (i + 1) & (a->users_cap - 1);
	return &a->users[i];
}

/* Under users_mu: room for one more (the table doubles at half full). Out of
 * memory only means no caching. */
static bool audit_user_room(struct audit *a)
{
	struct audit_user *old = a->users;
	size_t ocap = a->users_cap, cap = ocap ? ocap * 2 : 64;

	if ((a->nusers + 1) * 2 <= ocap)
		return true;
	if (!(a->users = calloc(cap, sizeof(*a->users)))) {
		a->users = old;
		return false;
	}
	a->users_cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			*audit_user_slot(a, old[i].uid) = old[i];
	free(old);
	return true;
}

/* The user name of uid into out (numeric when unknown). Cached under users_mu
 * for USER_TTL_MS, for any number of users; the name-service lookup runs with
 * no lock held, so it never delays other opens. Call without a->mu. */
static void audit_user(struct audit *a, uid_t uid, char out[64])
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	bool hit = false;
	int64_t now = clock_mono_ms();
	struct audit_user *u;

	pthread_mutex_lock(&a->users_mu);
	if (a->users_cap && (u = audit_user_slot(a, uid))->used && now - u->at_ms < USER_TTL_MS) {
		memcpy(out, u->name, 64);
		hit = true;
	}
	pthread_mutex_unlock(&a->users_mu);
	if (hit)
		return;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, 64, "%s", pw.pw_name);
	else
		snprintf(out, 64, "%u", (unsigned)uid);
	pthread_mutex_lock(&a->users_mu);
	if (audit_user_room(a)) {
		u = audit_user_slot(a, uid);
		a->nusers += !u->used;
		*u = (struct audit_user){uid, true, now, ""};
		memcpy(u->name, out, 64);
	}
	pthread_mutex_unlock(&a->users_mu);
}

/* The process name of pid from /proc (empty when it is gone). */
static void audit_comm(pid_t pid, char *out, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, cap - 1);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	out[strcspn(out, "\n")] = 0;
}

/* ------------------------------------------------------------ lines */

static void audit_ts_at(char out[64], int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void audit_ts(char out[64])
{
	audit_ts_at(out, clock_now_ms());
}

/* The event's keys after "seq" (no prev/mac). user and comm were looked up by
 * the caller before any lock. */
static void audit_body(struct jbuf *b, const struct audit_event *ev, const char *user,
		       const char *comm, uint64_t rfrom, uint64_t rto)
{
	char ts[64];

	audit_ts(ts);
	j_key(b, "ts"), j_str(b, ts);
	j_key(b, "event"), j_str(b, ev->event);
	j_key(b, "result"), j_str(b, ev->result);
	j_key(b, "reason"), j_str(b, ev->reason);
	if (ev->has_caller) {
		j_key(b, "uid"), j_num(b, (long long)ev->uid);
		j_key(b, "user"), j_str(b, user);
		if (ev->pid) {
			j_key(b, "pid"), j_num(b, (long long)ev->pid);
			j_key(b, "comm"), j_str(b, comm);
		} else {
			static const char np[] = ",\"pid\":null,\"comm\":null";
			j_raw(b, np, sizeof(np) - 1);
		}
	} else {
		static const char none[] = ",\"uid\":null,\"user\":null,\"pid\":null,\"comm\":null";
		j_raw(b, none, sizeof(none) - 1);
	}
	j_key(b, "profile"), j_str(b, ev->profile);
	j_key(b, "path"), j_str(b, ev->path);
	j_key(b, "record"), j_str(b, ev->record);
	j_key(b, "fields");
	j_raw(b, "[", 1);
	for (unsigned i = 0; i < ev->nfields; i++) {
		if (i)
			j_raw(b, ",", 1);
		j_str(b, ev->fields[i]);
	}
	j_raw(b, "]", 1);
	j_key(b, "detail"), j_str(b, ev->detail);
	if (ev->count) {
		j_key(b, "count"), j_num(b, (long long)ev->count);
		j_key(b, "since"), j_str(b, ev->since);
	}
	if (rfrom) {
		j_key(b, "revoke_from"), j_num(b, (long long)rfrom);
		j_key(b, "revoke_to"), j_num(b, (long long)rto);
	}
}

/* Complete the line in b for a->seq: seq first, then body, prev and mac. */
static void audit_seal_line(struct audit *a, struct jbuf *b, const struct jbuf *body)
{
	uint8_t mac[AUDIT_HASH_BYTES];
	char head[40];

	b->len = 0;
	j_raw(b, head,
	      (size_t)snprintf(head, sizeof(head), "{\"seq\":%llu", (unsigned long long)a->seq));
	j_raw(b, body->p, body->len);
	j_raw(b, AUDIT_TAIL_PREV, sizeof(AUDIT_TAIL_PREV) - 1);
	j_hex(b, a->prev, sizeof(a->prev));
	audit_line_mac(mac, a->key, b->p, b->len);
	j_raw(b, AUDIT_TAIL_MAC, sizeof(AUDIT_TAIL_MAC) - 1);
	j_hex(b, mac, sizeof(mac));
	j_raw(b, "\"}\n", 3);
}

/* ------------------------------------------------------------ state */

/* Called under a->mu (or before threads start): a->state_buf is shared. */
static int audit_state_save(struct audit *a)
{
	uint8_t *s = a->state_buf;
	bool latched = __atomic_load_n(&a->latched, __ATOMIC_ACQUIRE);
	int rc = 0;

	memset(s, 0, STATE_SIZE);
	memcpy(s, STATE_MAGIC, 8);
	util_store_le64(s + 8, a->seq);
	memcpy(s + 16, a->prev, 32);
	memcpy(s + 48, a->key, 32);

	util_store_le64(s + 80, latched ? a->latch_from : 0);
	util_store_le64(s + 88, latched ? a->latch_to : 0);
	s[96] = latched; /* a restart after a failed flush is logged */
	if (pwrite(a->state_fd, s, STATE_SIZE, 0) != STATE_SIZE)
		rc = -EIO;
	sodium_memzero(s, STATE_SIZE);
	return rc;
}

static int audit_state_load(struct audit *a, char *err, size_t errlen)
{
	uint8_t *s = sodium_malloc(STATE_SIZE);
	int rc = 0;

	if (!s)
		return -ENOMEM;
	if (pread(a->state_fd, s, STATE_SIZE, 0) != STATE_SIZE || memcmp(s, STATE_MAGIC, 8) != 0) {
		util_errf(err, errlen, "%s: not a protocolfs audit state file", a->state_path);
		rc = -EINVAL;
	} else {
		a->seq = util_load_le64(s + 8);
		memcpy(a->prev, s + 16, 32);
		memcpy(a->key, s + 48, 32);
		a->latch_from = util_load_le64(s + 80);
		a->latch_to = util_load_le64(s + 88);
		a->was_latched = s[96] != 0;
	}
	sodium_free(s);
	return rc;
}

/* First start: a fresh initial key, given once to the verifier. */
static int audit_state_create(struct audit *a, char *err, size_t errlen)
{
	struct util_out o = {.fd = -1};
	char *hex = sodium_malloc(2 * AUDIT_KEY_BYTES + 2);
	int rc = hex ? 0 : -ENOMEM;

	randombytes_buf(a->key, AUDIT_KEY_BYTES);
	a->seq = 1;
	memset(a->prev, 0, sizeof(a->prev));
	if (rc == 0) {
		sodium_bin2hex(hex, 2 * AUDIT_KEY_BYTES + 1, a->key, AUDIT_KEY_BYTES);
		strcat(hex, "\n");
		rc = util_out_open(&o, a->o.verify_key, 0600, err, errlen);
	}
	if (rc == 0)
		rc = util_out_write(&o, hex, strlen(hex), err, errlen);
	if (rc == 0)
		rc = util_out_commit(&o, false, err, errlen);
	else
		util_out_abort(&o);
	sodium_free(hex);
	if (rc == 0)
		rc = audit_state_save(a);
	return rc;
}

/* ------------------------------------------------------------ recovery */

/* Drop a torn last line (a write cut short by ENOSPC or a crash). Returns the
 * number of bytes removed. */
static ssize_t audit_mend(struct audit *a, const char *buf, size_t len, off_t from)
{
	size_t keep = len;

	while (keep > 0 && buf[keep - 1] != '\n')
		keep--;
	if (keep == len)
		return 0;
	if (ftruncate(a->fd, from + (off_t)keep) < 0)
		return -errno;
	return (ssize_t)(len - keep);
}

bool audit_line_seq(const char *line, size_t n, uint64_t *seq)
{
	static const char head[] = "{\"seq\":";
	size_t i = sizeof(head) - 1;
	uint64_t v = 0;

	if (n <= i || memcmp(line, head, i) != 0 || line[i] < '0' || line[i] > '9')
		return false;
	for (; i < n && line[i] >= '0' && line[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	*seq = v;
	return i < n && line[i] == ',';
}

/* Every byte after the MAC'd prefix is fixed: ","mac":"<64 hex>"} */
bool audit_tail_ok(const char *line, size_t n)
{
	const char *mac = line + n - 66 - (sizeof(AUDIT_TAIL_MAC) - 1);

	if (n < AUDIT_TAIL_LEN ||
	    memcmp(line + n - AUDIT_TAIL_LEN, AUDIT_TAIL_PREV, sizeof(AUDIT_TAIL_PREV) - 1) != 0)
		return false;
	if (memcmp(mac, AUDIT_TAIL_MAC, sizeof(AUDIT_TAIL_MAC) - 1) != 0)
		return false;
	if (line[n - 2] != '"' || line[n - 1] != '}')
		return false;
	for (size_t i = n - 66; i < n - 2; i++)
		if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
			return false;
	return true;
}

/* Check one line of the tail against the running chain and advance it. */
static int audit_replay_line(struct audit *a, const char *line, size_t n, uint64_t seq)
{
	uint8_t mac[AUDIT_HASH_BYTES], want[AUDIT_HASH_BYTES];
	char prevhex[65];

	if (n < AUDIT_TAIL_LEN + 10 || !audit_tail_ok(line, n))
		return -EBADMSG;
	sodium_bin2hex(prevhex, sizeof(prevhex), a->prev, sizeof(a->prev));
	if (seq != a->seq ||
	    memcmp(line + n - AUDIT_TAIL_LEN + sizeof(AUDIT_TAIL_PREV) - 1, prevhex, 64) != 0)
		return -EBADMSG;
	audit_line_mac(mac, a->key, line, n - 64 - 2 - (sizeof(AUDIT_TAIL_MAC) - 1));
	if (sodium_hex2bin(want, sizeof(want), line + n - 66, 64, NULL, NULL, NULL) != 0 ||
	    sodium_memcmp(mac, want, sizeof(mac)) != 0)
		return -EBADMSG;
	crypto_generichash(a->prev, sizeof(a->prev), (const uint8_t *)line, n, NULL, 0);
	audit_key_ratchet(a->key);
	a->seq++;
	return 0;
}

/* Replay the lines of the current file that the state has not seen. */
static int audit_replay(struct audit *a, const char *buf, size_t len, char *err, size_t errlen)
{
	uint8_t h[AUDIT_HASH_BYTES];
	size_t off = 0;
	uint64_t last = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = (size_t)(nl - (buf + off));
		uint64_t seq = 0;
		/* each line after the first runs on: no line repeated, none replayed */
		if (!audit_line_seq(buf + off, n, &seq) || (off > 0 && seq != last + 1))
			goto bad;
		last = seq;
		if (seq + 1 == a->seq) {
			crypto_generichash(h, sizeof(h), (const uint8_t *)buf + off, n, NULL, 0);
			if (sodium_memcmp(h, a->prev, sizeof(h)) != 0)
				goto bad;
		} else if (seq >= a->seq && audit_replay_line(a, buf + off, n, seq) < 0) {
			goto bad;
		}
		off += n + 1;
	}
	if (len && last + 1 != a->seq) {
		util_errf(err, errlen,
			  "%s: the log ends at line %llu but the audit state expects "
			  "line %llu next (lines missing): check with protocolfs audit verify",
			  a->log_path, (unsigned long long)last, (unsigned long long)a->seq);
		return -EBADMSG;
	}
	return 0;
bad:
	util_errf(err, errlen,
		  "%s: byte %zu: the log does not continue the audit state: check "
		  "with protocolfs audit verify",
		  a->log_path, off);
	return -EBADMSG;
}

/* The log's folder: owned by root or the daemon's user, not writable by group or
 * others (else anyone in the group can put their own file at the log's path). */
static int audit_dir_check(struct audit *a, char *err, size_t errlen)
{
	char dir[4096];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", a->log_path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (stat(dir, &st) < 0) {
		util_errf(err, errlen, "%s: the audit log's folder: %s", dir, strerror(errno));
		return -errno;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		util_errf(err, errlen,
			  "%s: the audit log's folder is owned by uid %u, not by root or the "
			  "daemon's user",
			  dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		util_errf(err, errlen,
			  "%s: the audit log's folder is writable by group or others (chmod go-w)",
			  dir);
		return -EPERM;
	}
	return 0;
}

/* Is the open log a regular file of the daemon's user, writable by it alone? */
static int audit_log_owner_check(struct audit *a, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		util_errf(err, errlen, "%s: the audit log is not a regular file: refused",
			  a->log_path);
		return -EPERM;
	}
	if (st->st_uid != geteuid()) {
		util_errf(err, errlen,
			  "%s: the audit log is owned by uid %u, not by the daemon's user (uid "
			  "%u): refused",
			  a->log_path, (unsigned)st->st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		util_errf(err, errlen,
			  "%s: the audit log is writable by group or others: refused (chmod 600)",
			  a->log_path);
		return -EPERM;
	}
	return 0;
}

/* Open the log file for appending (creating it, 0600, when missing) and
 * remember which file it is. A symbolic link, another user's file, or one
 * others can write is refused (-EPERM or -ELOOP, message in err); a->fd is
 * set only on success. Called under a->mu (or before threads start). */
static int audit_log_open(struct audit *a, char *err, size_t errlen)
{
	struct stat st;
	int rc = audit_dir_check(a, err, errlen), fd;

	if (rc < 0)
		return rc;
	fd = open(a->log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		fd = open(a->log_path,
			  O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			util_errf(err, errlen, "%s: the audit log is a symbolic link: refused",
				  a->log_path);
		else
			util_errf(err, errlen, "%s: %s", a->log_path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", a->log_path, strerror(-rc));
	} else {
		rc = audit_log_owner_check(a, &st, err, errlen);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	a->fd = fd;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->end = st.st_size;
	return 0;
}

/* Read the last `want` bytes of the log (fewer if it is shorter) into *buf,
 * starting at a line boundary; *from is their offset in the file. */
static int audit_tail_read(struct audit *a, int fd, off_t size, off_t want, char **buf, size_t *len,
			   off_t *from)
{
	off_t off = size > want ? size - want : 0;
	size_t got = 0, skip = 0;
	char *b = malloc((size_t)(size - off) + 1);

	if (!b)
		return -ENOMEM;
	while (got < (size_t)(size - off)) {
		ssize_t n = pread(fd, b + got, (size_t)(size - off) - got, off + (off_t)got);
		if (n <= 0) {
			free(b);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	if (off > 0) { /* start after the first line break: a whole line */
		char *nl = memchr(b, '\n', got);
		skip = nl ? (size_t)(nl - b) + 1 : got;
	}
	memmove(b, b + skip, got - skip);
	*buf = b;
	*len = got - skip;
	*from = off + (off_t)skip;
	(void)a;
	return 0;
}

/* The tail of the log that reaches back to the line before the state's next
 * one: the last MiB, widened until it does (or is the whole file). Mount time
 * then does not grow with the log. */
static int audit_tail(struct audit *a, int fd, char **buf, size_t *len, off_t *from)
{
	struct stat st;
	off_t want = 1 << 20;
	uint64_t first;
	int rc;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (;;) {
		rc = audit_tail_read(a, fd, st.st_size, want, buf, len, from);
		if (rc < 0 || *from == 0 || (audit_line_seq(*buf, *len, &first) && first < a->seq))
			return rc;
		free(*buf);
		want *= 4;
	}
}

/* Mend a torn last line and replay the log's tail against the state. */
static int audit_recover(struct audit *a, ssize_t *mended, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	off_t from = 0;
	int fd = open(a->log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;
	struct stat st;

	if (fd < 0) {
		util_errf(err, errlen, "%s: %s", a->log_path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != a->dev || st.st_ino != a->ino) {
		close(fd);
		util_errf(err, errlen, "%s: the audit log was replaced while starting",
			  a->log_path);
		return -ESTALE;
	}
	rc = audit_tail(a, fd, &buf, &len, &from);
	close(fd);
	if (rc < 0) {
		util_errf(err, errlen, "%s: cannot read: %s", a->log_path, strerror(-rc));
		return rc;
	}
	*mended = audit_mend(a, buf, len, from);
	if (*mended < 0) {
		util_errf(err, errlen, "%s: cannot mend a torn last line: %s", a->log_path,
			  strerror((int)-*mended));
		rc = (int)*mended;
	} else {
		len -= (size_t)*mended;
		a->end = from + (off_t)len;
		rc = audit_replay(a, buf, len, err, errlen);
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ appending */

void audit_say(struct audit *a, int severity, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "protocolfs: %s\n", msg);
	if (a)
		slog_daemon(a->slog, severity, "%s", msg);
}

static void audit_complain(struct audit *a, const char *what, const char *path, int e)
{
	audit_say(a, LOG_ERR, "audit log %s: %s: %s; refusing opens", path, what, strerror(e));
}

/* Is the open descriptor still the file at the path, and writable? */
static int audit_file_check(struct audit *a)
{
	struct stat fst, pst;

	if (fstat(a->fd, &fst) < 0 || fst.st_nlink == 0)
		return -ENOENT; /* deleted: refused until SIGHUP recreates it */
	if (stat(a->log_path, &pst) < 0)
		return errno == ENOENT ? -ESTALE : -errno; /* renamed away: rotation */
	if (pst.st_dev != a->dev || pst.st_ino != a->ino)
		return -ESTALE; /* replaced (rotated) without a SIGHUP yet */
	if (!(pst.st_mode & S_IWUSR))
		return -EACCES;
	return 0;
}

/* Save the state after a flush (and at a latch, reopen and close): the state may
 * lag the log by the lines of one flush, which a restart replays from the log;
 * saving per flush rather than per line keeps a syscall off every open. */
static void audit_state_note(struct audit *a)
{
	if (audit_state_save(a) < 0)
		audit_complain(a, "cannot save the audit state", a->state_path, errno);
}

/* Before leaving a log file (rotation, reopen): flush it. A failure latches
 * like any failed flush. Called under a->mu. */
static void audit_flush_leaving(struct audit *a, int fd)
{
	if (audit_latched(a))
		return;
	if (fdatasync(fd) == 0) {
		a->flushed = a->written;
		audit_state_note(a);
		return;
	}
	int e = errno;
	bool always = a->o.sync == AUDIT_SYNC_ALWAYS;
	a->latch_from = always ? a->flushed + 1 : 0;
	a->latch_to = always ? a->written : 0;
	audit_latch_set(a);
	audit_complain(a, "flush failed", a->log_path, e);
}

/* The log at the path was refused (audit_switch): say so once, on stderr and
 * syslog. */
static void audit_refused_say(struct audit *a, const char *msg)
{
	audit_say(a, LOG_ERR, "audit log: %s; every open is refused until the daemon restarts",
		  msg);
}

/* Wait until no thread runs fdatasync on a->fd without the lock: only then may
 * a->fd be closed or replaced (a closed number can be reused by another open,
 * and the flush would then sync, or fail on, the wrong file). Called and
 * returns under a->mu. */
static void audit_flush_wait(struct audit *a)
{
	while (a->flushing)
		pthread_cond_wait(&a->cv, &a->mu);
}

/* Leave the current log file for the one at the path (rotation, reopen; with
 * only_stale, only if the path still names another file after waiting). On a
 * refused file (another user's, a symlink, writable by others) every later
 * append is refused until restart: the log is latched, not followed. Called
 * under a->mu. */
static int audit_switch(struct audit *a, bool only_stale, char *err, size_t errlen)
{
	int old, rc;

	audit_flush_wait(a);
	/* mu was released while waiting: another append may have followed already */
	if (only_stale && (rc = audit_file_check(a)) != -ESTALE)
		return rc;
	old = a->fd;
	audit_flush_leaving(a, old);
	if (audit_latched(a)) { /* err too: the caller prints it */
		util_errf(err, errlen, "%s: %s: every open is refused until the daemon restarts",
			  a->log_path,
			  __atomic_load_n(&a->refused, __ATOMIC_ACQUIRE)
			      ? "the file at the audit log's path was refused"
			      : "a flush of the audit log failed");
		return -EIO;
	}
	rc = audit_log_open(a, err, errlen);
	if (rc == 0)
		close(old);
	else if (rc == -EPERM || rc == -ELOOP)
		__atomic_store_n(&a->refused, true, __ATOMIC_RELEASE);
	return rc;
}

/* Write the sealed line; on a short write cut the file back so that no torn line
 * stays. Called under a->mu. */
static int audit_write_line(struct audit *a, const struct jbuf *line)
{
	ssize_t n = write(a->fd, line->p, line->len);

	if (n == (ssize_t)line->len)
		return 0;
	int e = n < 0 ? errno : ENOSPC;
	if (n > 0 && ftruncate(a->fd, a->end) < 0)
		audit_complain(a, "cannot cut back a torn line", a->log_path, errno);
	return -e;
}

/* Wait until line my is durable, flushing for everyone if nobody is. Called and
 * returns under a->mu. */
static int audit_group_commit(struct audit *a, uint64_t my)
{
	while (a->flushed < my && !audit_latched(a)) {
		if (a->flushing) {
			pthread_cond_wait(&a->cv, &a->mu);
			continue;
		}
		uint64_t target = a->written;
		int fd = a->fd; /* stays open while flushing: see audit_flush_wait */
		a->flushing = true;
		pthread_mutex_unlock(&a->mu);
		int r = fdatasync(fd);
		int e = errno;
		pthread_mutex_lock(&a->mu);
		a->flushing = false;
		if (r == 0) {
			a->flushed = target;
			audit_state_note(a);
		} else if (!audit_latched(a)) {
			/* sync=always: the waiting opens are refused, their lines revoked.
			 * batch: they were answered already; nothing to revoke. */
			bool always = a->o.sync == AUDIT_SYNC_ALWAYS;
			a->latch_from = always ? a->flushed + 1 : 0;
			/* every line written so far waits on a flush that can no longer be
			 * trusted: those written during this one are refused too */
			a->latch_to = always ? a->written : 0;
			audit_latch_set(a);
			audit_complain(a, "flush failed", a->log_path, e);
		}
		pthread_cond_broadcast(&a->cv);
	}
	return a->flushed >= my ? 0 : -EIO;
}

/* Under mu, after the line is in the file: the same bytes to syslog, in file
 * order (under mu: a non-blocking send, never a wait). A failure is counted and
 * said in the log by audit_tick; the file stays the record. */
static void audit_syslog_line(struct audit *a, const struct jbuf *line)
{
	int rc;

	if (!a->o.syslog_facility)
		return;
	rc = slog_send(a->slog, a->o.syslog_facility, LOG_INFO, line->p, line->len - 1);
	if (rc < 0) {
		a->sl_failed++;
		a->sl_errno = -rc;
	}
}

/* Append under a->mu: check the file, seal, write, advance the chain. */
static int audit_append_locked(struct audit *a, const struct jbuf *body, uint64_t *my)
{
	char buf[LINE_MAX_BYTES], msg[4400];
	struct jbuf line = {buf, 0, sizeof(buf), false};
	int rc = audit_file_check(a);

	if (rc == -ESTALE) /* rotated (renamed) before our SIGHUP: follow the path */
		rc = audit_switch(a, true, msg, sizeof(msg));
	if (rc == -EPERM || rc == -ELOOP)
		audit_refused_say(a, msg);
	if (rc < 0)
		return rc;
	audit_seal_line(a, &line, body);
	if (line.overflow)
		return -E2BIG;
	rc = audit_write_line(a, &line);
	if (rc < 0)
		return rc;
	audit_syslog_line(a, &line);
	a->end += (off_t)line.len;
	crypto_generichash(a->prev, sizeof(a->prev), (const uint8_t *)line.p, line.len - 1, NULL,
			   0);
	audit_key_ratchet(a->key);
	*my = a->written = a->seq++;
	return 0;
}

/* Write one line with an optional revoked range (see audit_body). */
static int audit_append_full(struct audit *a, const struct audit_event *ev, uint64_t rfrom,
			     uint64_t rto)
{
	char bbuf[LINE_MAX_BYTES], comm[64] = "", user[64] = "";
	struct jbuf body = {bbuf, 0, sizeof(bbuf), false};
	uint64_t my = 0;
	int rc;

	if (ev->has_caller) { /* file and name-service I/O: before the lock */
		if (ev->pid)
			audit_comm(ev->pid, comm, sizeof(comm));
		audit_user(a, ev->uid, user);
	}
	audit_body(&body, ev, user, comm, rfrom, rto);
	pthread_mutex_lock(&a->mu);
	rc = audit_latched(a) ? -EIO : body.overflow ? -E2BIG : audit_append_locked(a, &body, &my);
	if (rc == 0 && a->o.sync == AUDIT_SYNC_ALWAYS)
		rc = audit_group_commit(a, my);
	if (rc < 0 && rc != -EIO && rc != -EPERM && rc != -ELOOP)
		audit_complain(a, "cannot write", a->log_path, -rc);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* After a latch: say in the log (best effort) which lines were refused. */
static void audit_latch_note(struct audit *a)
{
	struct audit_event ev = {.event = "flush-failed",
				 .detail =
				     "an fdatasync of the audit log failed: every open is refused "
				     "until the daemon restarts (with sync=always, the lines in "
				     "revoke_from..revoke_to were refused)"};
	char bbuf[LINE_MAX_BYTES];
	struct jbuf body = {bbuf, 0, sizeof(bbuf), false};
	uint64_t my;

	pthread_mutex_lock(&a->mu);
	if (a->latch_noted) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	a->latch_noted = true;
	audit_body(&body, &ev, NULL, "", a->latch_from, a->latch_to);
	if (audit_append_locked(a, &body, &my) < 0)
		audit_complain(a, "cannot record the failed flush", a->log_path, EIO);
	audit_state_note(a); /* a restart must know it follows a failed flush */
	pthread_mutex_unlock(&a->mu);
}

static int audit_denial(struct audit *a, const struct audit_event *ev);

/* A caller's denied request (not a rate alert, not a summary). */
static bool audit_is_denial(const struct audit_event *ev)
{
	return ev->has_caller && ev->result && strcmp(ev->result, "denied") == 0 &&
	       strcmp(ev->event, "alert") != 0 && !ev->count;
}

int audit_append(struct audit *a, const struct audit_event *ev)
{
	bool was = audit_latched(a);
	int rc = audit_is_denial(ev) ? audit_denial(a, ev) : audit_append_full(a, ev, 0, 0);

	if (rc == -EIO && !was)
		audit_latch_note(a);
	return rc;
}

/* ------------------------------------------------------------ batch flusher */

static void *audit_flusher_main(void *arg)
{
	struct audit *a = arg;
	bool latched_now = false;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(a->o.sync_interval_ms % 1000) * 1000000;
		ts.tv_sec += a->o.sync_interval_ms / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		if (a->written > a->flushed && !audit_latched(a)) {
			audit_group_commit(a, a->written);
			latched_now = audit_latched(a);
		}
		if (latched_now) {
			pthread_mutex_unlock(&a->mu);
			audit_latch_note(a);
			pthread_mutex_lock(&a->mu);
			latched_now = false;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* ------------------------------------------------------------ rate limits */

/* The limiters exist from the start, so that a reload can set a limit. */
static int audit_rate_open(struct audit *a, char *err, size_t errlen)
{
	int rc = ratelimit_new(&a->rl_denial, DENIALS_IN_FULL, err, errlen);

	if (rc == 0)
		rc = ratelimit_new(&a->rl_user, 1, err, errlen);
	if (rc == 0)
		rc = ratelimit_new(&a->rl_profile, 1, err, errlen);
	if (rc == 0)
		audit_limits_set(a, a->o.max_per_minute, a->o.max_per_minute_profile);
	return rc;
}

void audit_limits_set(struct audit *a, unsigned per_user, unsigned per_profile)
{
	if (per_user)
		ratelimit_set_max(a->rl_user, per_user);
	if (per_profile)
		ratelimit_set_max(a->rl_profile, per_profile);
	__atomic_store_n(&a->max_user, per_user, __ATOMIC_RELEASE);
	__atomic_store_n(&a->max_profile, per_profile, __ATOMIC_RELEASE);
}

/* One limiter's verdict on an open: 1 allowed, 0 refused (*first: the first
 * refusal since the key was last allowed), or a negative errno. */
static int audit_rate_one(struct ratelimit *rl, const void *key, size_t klen, int64_t now,
			  bool *first)
{
	int v = ratelimit_take(rl, key, klen, 0, now);

	if (v < 0)
		return v;
	*first = v == RATELIMIT_REFUSE_FIRST;
	return v == RATELIMIT_ALLOW;
}

bool audit_rate_take(struct audit *a, uid_t uid, pid_t pid, const char *profile)
{
	int64_t now;
	int ok = 1;
	bool first = false, by_profile = false;
	uint32_t key = (uint32_t)uid;
	struct audit_event ev = {.event = "alert",
				 .result = "denied",
				 .has_caller = true,
				 .uid = uid,
				 .pid = pid,
				 .profile = profile};

	bool by_user = __atomic_load_n(&a->max_user, __ATOMIC_ACQUIRE) != 0;
	bool by_prof = profile && __atomic_load_n(&a->max_profile, __ATOMIC_ACQUIRE) != 0;

	if (!by_user && !by_prof)
		return true; /* no limit set: no lock, no clock */
	now = clock_mono_ms();
	if (by_user)
		ok = audit_rate_one(a->rl_user, &key, sizeof(key), now, &first);
	if (ok == 1 && by_prof) {
		ok = audit_rate_one(a->rl_profile, profile, strlen(profile), now, &first);
		by_profile = ok != 1;
	}
	if (ok < 0) {
		ev.reason = "rate limiter failed";
		ev.detail = "the rate limiter cannot count this open (out of memory): refused";
		audit_append(a, &ev);
		slog_daemon(a->slog, LOG_ERR, "audit alert: uid %u: %s", (unsigned)uid, ev.detail);
	} else if (ok == 0 && first) {
		ev.reason = by_profile ? "profile over max_opens_per_minute_profile"
				       : "user over max_opens_per_minute";
		ev.detail = by_profile
				? "rate limit reached: the profile's opens are refused until "
				  "fewer than max_opens_per_minute_profile were allowed in "
				  "the last 60 seconds"
				: "rate limit reached: the user's opens are refused until "
				  "fewer than max_opens_per_minute were allowed in the last "
				  "60 seconds";
		audit_append(a, &ev);
		slog_daemon(a->slog, LOG_WARNING, "audit alert: uid %u: %s", (unsigned)uid,
			    ev.reason);
	}
	return ok == 1;
}

/* ------------------------------------------------------------ denial aggregation */

/* The aggregation key: uid (4 bytes), reason, NUL, profile (or nothing). */
static size_t audit_denial_key(const struct audit_event *ev, unsigned char *key, size_t cap)
{
	uint32_t uid = (uint32_t)ev->uid;
	size_t rl = strlen(ev->reason ? ev->reason : ""),
	       pl = ev->profile ? strlen(ev->profile) : 0;

	if (sizeof(uid) + rl + 1 + pl > cap)
		return 0;
	memcpy(key, &uid, sizeof(uid));
	memcpy(key + sizeof(uid), ev->reason ? ev->reason : "", rl);
	key[sizeof(uid) + rl] = 0;
	memcpy(key + sizeof(uid) + rl + 1, ev->profile ? ev->profile : "", pl);
	return sizeof(uid) + rl + 1 + pl;
}

/* Names this request (process, operation, name), never 0. */
static uint64_t audit_denial_tag(const struct audit_event *ev)
{
	crypto_generichash_state st;
	uint8_t h[8];
	int32_t pid = ev->pid;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)&pid, sizeof(pid));
	crypto_generichash_update(&st, (const uint8_t *)ev->event, strlen(ev->event) + 1);
	if (ev->path)
		crypto_generichash_update(&st, (const uint8_t *)ev->path, strlen(ev->path));
	crypto_generichash_final(&st, h, sizeof(h));
	return util_load_le64(h) | 1;
}

/* A denied request's line, with a caller-chosen name cut to DENIED_NAME_MAX
 * bytes (at a character boundary) and its length said in detail. */
static int audit_denial_write(struct audit *a, const struct audit_event *ev)
{
	char path[DENIED_NAME_MAX + 8], detail[80];
	struct audit_event cut = *ev;
	size_t len = ev->path ? strlen(ev->path) : 0, n = DENIED_NAME_MAX;

	if (len <= DENIED_NAME_MAX)
		return audit_append_full(a, ev, 0, 0);
	while (n > 1 && ((unsigned char)ev->path[n] & 0xc0) == 0x80)
		n--;
	snprintf(path, sizeof(path), "%.*s\xe2\x80\xa6", (int)n, ev->path);
	snprintf(detail, sizeof(detail), "name cut to %zu of %zu bytes", n, len);
	cut.path = path;
	cut.detail = detail;
	return audit_append_full(a, &cut, 0, 0);
}

/* A denied request: written in full while its caller, reason and profile stay
 * within DENIALS_IN_FULL per 60 s; beyond that only counted (audit_tick writes
 * the count). The kernel's second lookup of one walk is the same attempt: not
 * written again. The request is refused whatever this returns. */
static int audit_denial(struct audit *a, const struct audit_event *ev)
{
	unsigned char key[RATELIMIT_KEY_MAX];
	size_t klen = audit_denial_key(ev, key, sizeof(key));
	int v = klen
		    ? ratelimit_take(a->rl_denial, key, klen, audit_denial_tag(ev), clock_mono_ms())
		    : -EINVAL;

	if (v == RATELIMIT_REPEAT || v == RATELIMIT_REFUSE || v == RATELIMIT_REFUSE_FIRST)
		return 0;
	return audit_denial_write(a, ev); /* allowed, or cannot count: in full */
}

struct audit_drain_ctx {
	struct audit *a;
	int64_t now_mono, now_wall;
};

static void audit_denials_line(void *ctx, const void *key, size_t klen, uint64_t count,
			       int64_t since_mono)
{
	struct audit_drain_ctx *c = ctx;
	const unsigned char *k = key;
	char reason[RATELIMIT_KEY_MAX], profile[RATELIMIT_KEY_MAX], since[64];
	uint32_t uid;
	size_t at = sizeof(uid), rl = strnlen((const char *)k + at, klen - at);
	struct audit_event ev = {.event = "denials",
				 .result = "denied",
				 .reason = reason,
				 .has_caller = true,
				 .count = count,
				 .since = since,
				 .detail =
				     "further denied requests of this caller for this reason, "
				     "counted, not written one by one"};

	memcpy(&uid, k, sizeof(uid));
	ev.uid = (uid_t)uid;
	snprintf(reason, sizeof(reason), "%.*s", (int)rl, (const char *)k + at);
	snprintf(profile, sizeof(profile), "%.*s", (int)(klen - at - rl - 1),
		 (const char *)k + at + rl + 1);
	ev.profile = profile[0] ? profile : NULL;
	audit_ts_at(since, c->now_wall - (c->now_mono - since_mono));
	audit_append(c->a, &ev);
}

/* Say in the log (and on stderr) how many lines syslog did not take since the
 * last time it was said: at most once a minute, and at the final tick. */
static void audit_syslog_failures(struct audit *a, bool final)
{
	char detail[PATH_MAX + 200];
	struct audit_event ev = {.event = "syslog", .result = "denied", .detail = detail};
	int64_t now = clock_mono_ms();
	uint64_t n;
	int e;

	pthread_mutex_lock(&a->mu);
	n = a->sl_failed - a->sl_said;
	/* at most one line a minute (the line itself may not reach syslog either) */
	if (!final && a->sl_said_ms && now - a->sl_said_ms < 60000)
		n = 0;
	if (n) {
		a->sl_said = a->sl_failed;
		a->sl_said_ms = now;
	}
	e = a->sl_errno;
	pthread_mutex_unlock(&a->mu);
	if (!n)
		return;
	snprintf(detail, sizeof(detail),
		 "%llu audit line%s not sent to syslog (%s: %s); the log file holds every line",
		 (unsigned long long)n, n == 1 ? "" : "s", slog_path(a->slog), strerror(e));
	ev.reason = e == EAGAIN ? "syslog queue full" : "syslog unreachable";
	audit_say(a, LOG_WARNING, "%s", detail);
	audit_append(a, &ev);
}

void audit_tick(struct audit *a, bool final)
{
	struct audit_drain_ctx c = {a, clock_mono_ms(), clock_now_ms()};

	if (a->o.syslog_facility)
		audit_syslog_failures(a, final);
	ratelimit_drain(a->rl_denial, c.now_mono, final ? 0 : RATELIMIT_WINDOW_S * 1000,
			audit_denials_line, &c);
}

/* ------------------------------------------------------------ open, reopen, close */

static int audit_paths(struct audit *a, const struct audit_opts *o, char *err, size_t errlen)
{
	a->o = *o;
	if ((size_t)snprintf(a->log_path, sizeof(a->log_path), "%s", o->log_path) >=
		sizeof(a->log_path) ||
	    (size_t)snprintf(a->state_path, sizeof(a->state_path), "%s/audit.state",
			     o->state_dir) >= sizeof(a->state_path)) {
		util_errf(err, errlen, "%s: path too long", o->log_path);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* One writer per chain: the daemon (or purge) holds state_dir/audit.lock. */
static int audit_lock(struct audit *a, char *err, size_t errlen)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/audit.lock", a->o.state_dir);
	a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lock_fd < 0) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		util_errf(err, errlen, "%s: the audit log is in use by a running daemon", path);
		return -EBUSY;
	}
	return 0;
}

/* Open (or create, the first time) the state and the log, and recover. */
static int audit_start(struct audit *a, ssize_t *mended, char *err, size_t errlen)
{
	struct stat st;
	bool fresh;
	int rc = audit_lock(a, err, errlen);

	if (rc < 0)
		return rc;
	fresh = stat(a->state_path, &st) < 0;

	if (fresh && stat(a->log_path, &st) == 0 && st.st_size > 0) {
		util_errf(err, errlen,
			  "%s: an audit log exists but %s does not: the chain cannot "
			  "be continued (move the old log away and keep it)",
			  a->log_path, a->state_path);
		return -EEXIST;
	}
	a->state_fd = open(a->state_path,
			   O_RDWR | O_CLOEXEC | O_NOFOLLOW | (fresh ? O_CREAT | O_EXCL : 0), 0600);
	if (a->state_fd < 0) {
		util_errf(err, errlen, "%s: %s", a->state_path, strerror(errno));
		return -errno;
	}
	rc = fresh ? audit_state_create(a, err, errlen) : audit_state_load(a, err, errlen);
	if (rc < 0) {
		if (fresh)
			unlink(a->state_path);
		return rc;
	}
	rc = audit_log_open(a, err, errlen);
	if (rc == 0)
		rc = audit_recover(a, mended, err, errlen);
	return rc;
}

/* Lines written at start: a mended tail, and a restart after a latched flush. */
static int audit_start_notes(struct audit *a, ssize_t mended, char *err, size_t errlen)
{
	char detail[200];
	struct audit_event ev = {.event = "mend", .detail = detail};
	uint64_t from = a->latch_from, to = a->latch_to;
	int rc = 0;

	a->written = a->flushed = a->seq - 1;
	if (mended > 0) {
		snprintf(detail, sizeof(detail),
			 "removed a torn last line of %zd bytes (a write was cut short)", mended);
		rc = audit_append_full(a, &ev, 0, 0);
	}
	if (rc == 0 && (from || a->was_latched)) {
		ev.event = "recover";
		ev.detail = from
				? "restarted after a failed flush: the lines in "
				  "revoke_from..revoke_to were refused"
				: "restarted after a failed flush (sync=batch: no open was refused "
				  "for it)";
		rc = audit_append_full(a, &ev, from, to);
	}
	if (rc < 0)
		util_errf(err, errlen, "%s: cannot write: %s", a->log_path, strerror(-rc));
	return rc;
}

int audit_open(struct audit **out, const struct audit_opts *o, char *err, size_t errlen)
{
	struct audit *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;
	ssize_t mended = 0;
	int rc = -ENOMEM;

	*out = NULL;
	if (!a || !(a->key = sodium_malloc(AUDIT_KEY_BYTES)) ||
	    !(a->state_buf = sodium_malloc(STATE_SIZE))) {
		util_errf(err, errlen, "out of memory");
		if (a)
			sodium_free(a->key);
		free(a);
		return rc;
	}
	a->fd = a->state_fd = a->lock_fd = -1;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->users_mu, NULL);
	pthread_condattr_init(&ca);
	/* The batch flusher's timed waits are on the monotonic clock. */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = audit_paths(a, o, err, errlen);
	if (rc == 0)
		rc = slog_open(&a->slog, o->syslog_socket, err, errlen);
	if (rc == 0)
		rc = audit_rate_open(a, err, errlen);
	if (rc == 0)
		rc = audit_start(a, &mended, err, errlen);
	if (rc == 0)
		rc = audit_start_notes(a, mended, err, errlen);
	if (rc == 0)
		audit_state_note(a);
	if (rc == 0 && o->sync == AUDIT_SYNC_BATCH) {
		rc = -pthread_create(&a->flusher, NULL, audit_flusher_main, a);
		a->has_flusher = rc == 0;
	}
	if (rc < 0) {
		audit_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

int audit_reopen(struct audit *a, char *err, size_t errlen)
{
	struct audit_event ev = {.event = "reopen",
				 .detail = "audit log reopened (rotation or SIGHUP)"};
	int rc;

	pthread_mutex_lock(&a->mu);
	rc = audit_switch(a, false, err, errlen);
	pthread_mutex_unlock(&a->mu);
	if (rc == -EPERM || rc == -ELOOP) /* err goes to stderr through the caller */
		slog_daemon(a->slog, LOG_ERR,
			    "audit log: %s; every open is refused until the daemon restarts", err);
	if (rc == 0 && (rc = audit_append(a, &ev)) < 0)
		util_errf(err, errlen, "%s: cannot write the reopen line: %s", a->log_path,
			  strerror(-rc));
	return rc;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->has_flusher) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->flusher, NULL);
	}
	if (a->fd >= 0 && a->seq && !audit_latched(a))
		audit_tick(a, true); /* no count of denials is lost at unmount */
	ratelimit_free(a->rl_user);
	ratelimit_free(a->rl_profile);
	ratelimit_free(a->rl_denial);
	if (a->fd >= 0) {
		if (!audit_latched(a))
			fdatasync(a->fd);
		close(a->fd);
	}
	if (a->state_fd >= 0) {
		if (a->key && a->seq)
			audit_state_save(a);
		fsync(a->state_fd);
		close(a->state_fd);
	}
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	sodium_free(a->key);
	sodium_free(a->state_buf);
	slog_close(a->slog);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->users_mu);
	free(a->users);
	free(a);
}
