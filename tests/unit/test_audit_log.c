/* test_audit_log.c — the audit log on real files (Art. 6: every use demonstrable;
 * Art. 6, 9: misuse detected): the hash chain, the ratcheting MAC checked
 * independently of the writer (and shown to fail on one edited byte), the chain
 * continued across a restart, the latch after a refused reopen, each start-up
 * refusal's own message, the per-user and per-profile open limits, and the
 * aggregation of denied requests. Lines are read with plain string searches. */
#include "unit.h"

#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINES 256

static char g_root[64];

struct tdir {
	char dir[128], logdir[160], log[200], state[160], statefile[200], key[200];
	struct audit_opts o;
};

/* A fresh folder with log/ and state/ below it (0755), and options for them. */
static void tdir_new(struct tdir *t, const char *name)
{
	snprintf(t->dir, sizeof(t->dir), "%s/%s", g_root, name);
	snprintf(t->logdir, sizeof(t->logdir), "%s/log", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/audit.log", t->logdir);
	snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	snprintf(t->statefile, sizeof(t->statefile), "%s/audit.state", t->state);
	snprintf(t->key, sizeof(t->key), "%s/verify.key", t->dir);
	CHECK_INT(mkdir(t->dir, 0755), 0);
	CHECK_INT(mkdir(t->logdir, 0755), 0);
	CHECK_INT(mkdir(t->state, 0700), 0);
	memset(&t->o, 0, sizeof(t->o));
	t->o.log_path = t->log;
	t->o.state_dir = t->state;
	t->o.verify_key = t->key;
	t->o.sync = AUDIT_SYNC_ALWAYS;
}

struct lines {
	char *buf;
	char *l[MAX_LINES];
	size_t len[MAX_LINES];
	size_t off[MAX_LINES]; /* of each line in the file */
	unsigned n;
};

/* Every line of the file (newlines replaced by NUL). */
static void lines_read(struct lines *ls, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;

	memset(ls, 0, sizeof(*ls));
	ls->buf = calloc(1, 1);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	free(ls->buf);
	ls->buf = calloc(1, (size_t)size + 1);
	if (fread(ls->buf, 1, (size_t)size, f) != (size_t)size)
		printf("  helper: short read of %s\n", path);
	fclose(f);
	for (char *p = ls->buf; *p && ls->n < MAX_LINES;) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = 0;
		ls->l[ls->n] = p;
		ls->len[ls->n] = (size_t)(nl - p);
		ls->off[ls->n] = (size_t)(p - ls->buf);
		ls->n++;
		p = nl + 1;
	}
}

static void lines_free(struct lines *ls)
{
	free(ls->buf);
	ls->buf = NULL;
}

/* How many lines hold s1 and (when not NULL) s2 and s3. */
static unsigned lines_with(const struct lines *ls, const char *s1, const char *s2, const char *s3)
{
	unsigned c = 0;

	for (unsigned i = 0; i < ls->n; i++)
		c += strstr(ls->l[i], s1) && (!s2 || strstr(ls->l[i], s2)) &&
		     (!s3 || strstr(ls->l[i], s3));
	return c;
}

static unsigned file_lines(const char *path)
{
	struct lines ls;
	unsigned n;

	lines_read(&ls, path);
	n = ls.n;
	lines_free(&ls);
	return n;
}

/* key_1, from the verify_key file the first open wrote (64 hex and a newline). */
static bool key_read(const char *path, uint8_t key[AUDIT_KEY_BYTES])
{
	char hex[80] = "";
	FILE *f = fopen(path, "r");
	size_t got = 0;

	if (!f)
		return false;
	if (!fgets(hex, sizeof(hex), f))
		hex[0] = 0;
	fclose(f);
	return strlen(hex) == 65 && hex[64] == '\n' &&
	       sodium_hex2bin(key, AUDIT_KEY_BYTES, hex, 64, NULL, &got, NULL) == 0 &&
	       got == AUDIT_KEY_BYTES;
}

/* key_{n+1} = BLAKE2b-256 keyed by key_n over the label, written here without
 * the code under test. */
static void ratchet(uint8_t key[AUDIT_KEY_BYTES])
{
	static const char label[] = "protocolfs audit ratchet v1";
	uint8_t next[AUDIT_KEY_BYTES];

	crypto_generichash(next, sizeof(next), (const uint8_t *)label, sizeof(label) - 1, key,
			   AUDIT_KEY_BYTES);
	memcpy(key, next, sizeof(next));
}

/* The last occurrence of needle in s. */
static const char *str_last(const char *s, const char *needle)
{
	const char *last = NULL;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		last = p;
	return last;
}

static const char *g_why; /* why chain_check stopped */

/* Check every line of ls against the chain from key_1: seq 1..n, prev the hex
 * BLAKE2b-256 of the previous line (zeros for the first), mac the keyed
 * BLAKE2b-256 of the line up to the closing quote of prev, under key_seq.
 * Returns the index of the first bad line, or -1 when all hold. */
static int chain_check(const struct lines *ls, const uint8_t key1[AUDIT_KEY_BYTES])
{
	uint8_t key[AUDIT_KEY_BYTES], prev[AUDIT_HASH_BYTES] = {0}, mac[AUDIT_HASH_BYTES];
	char hex[2 * AUDIT_HASH_BYTES + 1], want[200];

	memcpy(key, key1, sizeof(key));
	for (unsigned i = 0; i < ls->n; i++) {
		const char *line = ls->l[i], *p, *m;

		snprintf(want, sizeof(want), "{\"seq\":%u,", i + 1);
		if (strncmp(line, want, strlen(want)) != 0)
			return g_why = "seq", (int)i;
		sodium_bin2hex(hex, sizeof(hex), prev, sizeof(prev));
		snprintf(want, sizeof(want), ",\"prev\":\"%s\",\"mac\":\"", hex);
		p = str_last(line, ",\"prev\":\"");
		if (!p || strncmp(p, want, strlen(want)) != 0)
			return g_why = "prev", (int)i;
		m = str_last(line, "\",\"mac\":\"");
		if (!m || strlen(m + 9) != 66 || strcmp(m + 9 + 64, "\"}") != 0)
			return g_why = "tail", (int)i;
		crypto_generichash(mac, sizeof(mac), (const uint8_t *)line, (size_t)(m - line), key,
				   sizeof(key));
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		if (strncmp(m + 9, hex, 64) != 0)
			return g_why = "mac", (int)i;
		crypto_generichash(prev, sizeof(prev), (const uint8_t *)line, ls->len[i], NULL, 0);
		ratchet(key);
	}
	return -1;
}

static int append_detail(struct audit *a, const char *event, const char *detail)
{
	struct audit_event ev = {.event = event, .detail = detail};

	return audit_append(a, &ev);
}

static int append_open(struct audit *a, uid_t uid, const char *path)
{
	static const char *const fields[] = {"first_name", "last_name"};
	struct audit_event ev = {.event = "open",
				 .result = "allowed",
				 .has_caller = true,
				 .uid = uid,
				 .pid = getpid(),
				 .profile = "partner",
				 .path = path,
				 .record = "INB0000001",
				 .fields = fields,
				 .nfields = 2};

	return audit_append(a, &ev);
}

static int deny(struct audit *a, uid_t uid, pid_t pid, const char *path)
{
	struct audit_event ev = {.event = "lookup",
				 .result = "denied",
				 .reason = "caller has no profile",
				 .has_caller = true,
				 .uid = uid,
				 .pid = pid,
				 .path = path};

	return audit_append(a, &ev);
}

/* A log of n lines through one open and close; the audit is closed after. */
static void make_log(struct tdir *t, const char *name, unsigned n)
{
	struct audit *a = NULL;
	char err[512] = "", d[32];

	tdir_new(t, name);
	CHECK_INT(audit_open(&a, &t->o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "line %u", i + 1);
		CHECK_INT(append_detail(a, "mount", d), 0);
	}
	audit_close(a);
}

/* ------------------------------------------------------------ chain */

TEST(chain_prev_seq_mac_verified_independently)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	uint8_t key[AUDIT_KEY_BYTES], k2[AUDIT_KEY_BYTES], mac[AUDIT_HASH_BYTES];
	char err[512] = "", d[32], hex[65];
	struct stat st;
	uint64_t seq = 0;

	tdir_new(&t, "chain");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK(a != NULL);
	for (unsigned i = 0; i < 6; i++) {
		snprintf(d, sizeof(d), "line %u", i + 1);
		CHECK_INT(i % 2 ? append_open(a, 1000 + i, "/INB0000001.txt")
				: append_detail(a, "mount", d),
			  0);
	}
	audit_close(a);

	CHECK_INT(stat(t.key, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(key_read(t.key, key));
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 6);
	CHECK_INT(chain_check(&ls, key), -1);
	/* the first line's prev is 64 zeros */
	CHECK(strstr(ls.l[0], ",\"prev\":\"0000000000000000000000000000000000000000000000000000"
			      "000000000000\",\"mac\":\"") != NULL);
	CHECK(strstr(ls.l[1], "\"event\":\"open\",\"result\":\"allowed\",\"reason\":null,"
			      "\"uid\":1001,") != NULL);
	/* the shared helpers agree with the independent computation */
	memcpy(k2, key, sizeof(key));
	audit_key_ratchet(k2);
	ratchet(key);
	CHECK(memcmp(k2, key, sizeof(key)) == 0);
	{
		const char *m = str_last(ls.l[1], "\",\"mac\":\"");
		audit_line_mac(mac, key, ls.l[1], (size_t)(m - ls.l[1]));
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		CHECK(strncmp(m + 9, hex, 64) == 0);
	}
	for (unsigned i = 0; i < ls.n; i++) {
		CHECK(audit_line_seq(ls.l[i], ls.len[i], &seq));
		CHECK_INT(seq, i + 1);
		CHECK(audit_tail_ok(ls.l[i], ls.len[i]));
	}
	CHECK(!audit_tail_ok(ls.l[0], ls.len[0] - 1));
	CHECK(!audit_line_seq("{\"seq\":x,", 9, &seq));
	lines_free(&ls);
}

TEST(chain_one_edited_byte_fails_the_mac)
{
	struct tdir t;
	struct lines ls;
	uint8_t key[AUDIT_KEY_BYTES];
	char *p;

	make_log(&t, "tamper", 5);
	CHECK(key_read(t.key, key));
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 5);
	CHECK_INT(chain_check(&ls, key), -1);
	p = strstr(ls.l[2], "\"detail\":\"line 3\"");
	CHECK(p != NULL);
	if (p)
		p[15] = '8'; /* "line 3" -> "line 8" */
	g_why = NULL;
	CHECK_INT(chain_check(&ls, key), 2);
	CHECK_STR(g_why, "mac");
	lines_free(&ls);
}

TEST(chain_continues_after_reopen)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	uint8_t key[AUDIT_KEY_BYTES], key_again[AUDIT_KEY_BYTES];
	char err[512] = "";

	make_log(&t, "restart", 4);
	CHECK(key_read(t.key, key));
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK_INT(append_detail(a, "mount", "after restart 1"), 0);
	CHECK_INT(append_open(a, 1000, "/INB0000002.txt"), 0);
	audit_close(a);
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK_INT(append_detail(a, "unmount", "after restart 2"), 0);
	audit_close(a);
	CHECK(key_read(t.key, key_again)); /* never overwritten */
	CHECK(memcmp(key, key_again, sizeof(key)) == 0);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 7);
	CHECK_INT(chain_check(&ls, key), -1);
	CHECK(strncmp(ls.l[4], "{\"seq\":5,", 9) == 0);
	CHECK(strncmp(ls.l[6], "{\"seq\":7,", 9) == 0);
	lines_free(&ls);
}

/* ------------------------------------------------------------ latch */

/* After a refused reopen: the message, then -EIO for every append until a new
 * audit_open, which (with the log put back) continues the chain. */
static void latch_case(const char *name, int how)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	uint8_t key[AUDIT_KEY_BYTES];
	char err[512] = "", moved[240], want[512];
	int fd, want_rc = -EPERM;

	make_log(&t, name, 2);
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK_INT(append_detail(a, "mount", "before"), 0);
	snprintf(moved, sizeof(moved), "%s.moved", t.log);
	CHECK_INT(rename(t.log, moved), 0);
	if (how == 0) {
		CHECK_INT(symlink(moved, t.log), 0);
		want_rc = -ELOOP;
		snprintf(want, sizeof(want), "%s: the audit log is a symbolic link: refused",
			 t.log);
	} else {
		fd = open(t.log, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0);
		if (how == 1) {
			CHECK_INT(fchown(fd, 65534, 65534), 0);
			snprintf(want, sizeof(want),
				 "%s: the audit log is owned by uid 65534, not by the daemon's "
				 "user (uid %u): refused",
				 t.log, (unsigned)geteuid());
		} else {
			CHECK_INT(fchmod(fd, how == 2 ? 0620 : 0602), 0);
			snprintf(want, sizeof(want),
				 "%s: the audit log is writable by group or others: refused "
				 "(chmod 600)",
				 t.log);
		}
		close(fd);
	}
	err[0] = 0;
	CHECK_INT(audit_reopen(a, err, sizeof(err)), want_rc);
	CHECK_STR(err, want);
	CHECK_INT(append_detail(a, "mount", "after"), -EIO);
	CHECK_INT(append_open(a, 1000, "/INB0000001.txt"), -EIO);
	CHECK_INT(deny(a, 1000, getpid(), "/x"), -EIO);
	/* a second SIGHUP: still refused, and err says why */
	snprintf(err, sizeof(err), "stale");
	CHECK_INT(audit_reopen(a, err, sizeof(err)), -EIO);
	snprintf(want, sizeof(want),
		 "%s: the file at the audit log's path was refused: every open is refused until "
		 "the daemon restarts",
		 t.log);
	CHECK_STR(err, want);
	CHECK_INT(append_detail(a, "mount", "after again"), -EIO);
	audit_close(a);
	CHECK_INT(file_lines(moved), 3); /* nothing written after the refusal */
	CHECK_INT(unlink(t.log), 0);
	CHECK_INT(rename(moved, t.log), 0);
	/* a new open (the restart) works again and continues the chain */
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK_INT(append_detail(a, "mount", "restarted"), 0);
	audit_close(a);
	CHECK(key_read(t.key, key));
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 4);
	CHECK_INT(chain_check(&ls, key), -1);
	lines_free(&ls);
}

TEST(latch_after_reopen_finds_symlink)
{
	latch_case("latch-symlink", 0);
}

TEST(latch_after_reopen_finds_other_owner)
{
	latch_case("latch-owner", 1);
}

TEST(latch_after_reopen_finds_group_writable)
{
	latch_case("latch-group", 2);
}

TEST(latch_after_reopen_finds_other_writable)
{
	latch_case("latch-other", 3);
}

TEST(reopen_of_a_good_new_file_writes_reopen_line)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "", moved[240];

	make_log(&t, "reopen-ok", 2);
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	snprintf(moved, sizeof(moved), "%s.1", t.log);
	CHECK_INT(rename(t.log, moved), 0);
	CHECK_INT(audit_reopen(a, err, sizeof(err)), 0);
	CHECK_INT(append_detail(a, "mount", "in the new file"), 0);
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 2);
	CHECK(ls.n == 2 && strncmp(ls.l[0], "{\"seq\":3,", 9) == 0 &&
	      strstr(ls.l[0], "\"event\":\"reopen\""));
	CHECK(ls.n == 2 && strncmp(ls.l[1], "{\"seq\":4,", 9) == 0);
	lines_free(&ls);
	CHECK_INT(file_lines(moved), 2);
}

/* ------------------------------------------------------------ start-up refusals */

static void open_refused(const struct tdir *t, int want_rc, const char *want)
{
	struct audit *a = (void *)1;
	char err[1024] = "";

	CHECK_INT(audit_open(&a, &t->o, err, sizeof(err)), want_rc);
	CHECK(a == NULL);
	CHECK_STR(err, want);
	if (a && a != (void *)1)
		audit_close(a); /* opened although it should not have: let the next case run */
}

static void open_ok(const struct tdir *t)
{
	struct audit *a = NULL;
	char err[1024] = "";

	CHECK_INT(audit_open(&a, &t->o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK(a != NULL);
	audit_close(a);
}

TEST(open_refuses_folder_writable_by_others)
{
	struct tdir t;
	char want[512];

	make_log(&t, "r-folder", 1);
	CHECK_INT(chmod(t.logdir, 0757), 0);
	snprintf(want, sizeof(want),
		 "%s: the audit log's folder is writable by group or others (chmod go-w)",
		 t.logdir);
	open_refused(&t, -EPERM, want);
	CHECK_INT(chmod(t.logdir, 0775), 0);
	open_refused(&t, -EPERM, want);
	CHECK_INT(chmod(t.logdir, 0755), 0);
	open_ok(&t); /* and fine again */
}

TEST(open_refuses_folder_of_another_user)
{
	struct tdir t;
	char want[512];

	make_log(&t, "r-folder-owner", 1);
	CHECK_INT(chown(t.logdir, 65534, 65534), 0);
	snprintf(want, sizeof(want),
		 "%s: the audit log's folder is owned by uid 65534, not by root or the "
		 "daemon's user",
		 t.logdir);
	open_refused(&t, -EPERM, want);
}

TEST(open_refuses_log_of_another_user)
{
	struct tdir t;
	char want[512];

	make_log(&t, "r-owner", 1);
	CHECK_INT(chown(t.log, 65534, 65534), 0);
	snprintf(want, sizeof(want),
		 "%s: the audit log is owned by uid 65534, not by the daemon's user (uid %u): "
		 "refused",
		 t.log, (unsigned)geteuid());
	open_refused(&t, -EPERM, want);
}

TEST(open_refuses_log_symlink)
{
	struct tdir t;
	char want[512], real[240];

	make_log(&t, "r-symlink", 1);
	snprintf(real, sizeof(real), "%s.real", t.log);
	CHECK_INT(rename(t.log, real), 0);
	CHECK_INT(symlink(real, t.log), 0);
	snprintf(want, sizeof(want), "%s: the audit log is a symbolic link: refused", t.log);
	open_refused(&t, -ELOOP, want);
}

TEST(open_refuses_log_writable_by_group)
{
	struct tdir t;
	char want[512];

	make_log(&t, "r-group", 1);
	CHECK_INT(chmod(t.log, 0620), 0);
	snprintf(want, sizeof(want),
		 "%s: the audit log is writable by group or others: refused (chmod 600)", t.log);
	open_refused(&t, -EPERM, want);
}

TEST(open_refuses_second_open_of_the_state)
{
	struct tdir t;
	struct audit *a = NULL;
	char err[512] = "", want[512];

	make_log(&t, "r-busy", 1);
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	snprintf(want, sizeof(want), "%s/audit.lock: the audit log is in use by a running daemon",
		 t.state);
	open_refused(&t, -EBUSY, want);
	/* the refused second open left the first one working */
	CHECK_INT(append_detail(a, "mount", "still mine"), 0);
	audit_close(a);
	CHECK_INT(file_lines(t.log), 2);
	open_ok(&t);
}

TEST(open_refuses_garbled_state)
{
	struct tdir t;
	char want[512];
	int fd;

	make_log(&t, "r-state", 2);
	fd = open(t.statefile, O_WRONLY);
	CHECK(fd >= 0);
	CHECK_INT(pwrite(fd, "PFSAUDS2", 8, 0), 8);
	close(fd);
	snprintf(want, sizeof(want), "%s: not a protocolfs audit state file", t.statefile);
	open_refused(&t, -EINVAL, want);
	/* the refused open did not rewrite the state: still refused */
	open_refused(&t, -EINVAL, want);
	CHECK_INT(truncate(t.statefile, 60), 0);
	open_refused(&t, -EINVAL, want);
}

TEST(open_refuses_tail_that_does_not_continue_the_state)
{
	struct tdir t;
	struct lines ls;
	char want[512];
	size_t off;
	int fd;

	make_log(&t, "r-tail", 3);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	off = ls.off[2];
	/* edit one byte of the last line: its hash no longer matches the state */
	fd = open(t.log, O_WRONLY);
	CHECK(fd >= 0);
	CHECK_INT(
	    pwrite(fd, "9", 1, (off_t)(off + (size_t)(strstr(ls.l[2], "line 3") - ls.l[2]) + 5)),
	    1);
	close(fd);
	snprintf(want, sizeof(want),
		 "%s: byte %zu: the log does not continue the audit state: check with protocolfs "
		 "audit verify",
		 t.log, off);
	open_refused(&t, -EBADMSG, want);
	lines_free(&ls);
}

TEST(open_refuses_log_with_lines_missing)
{
	struct tdir t;
	struct lines ls;
	char want[512];

	make_log(&t, "r-missing", 3);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	CHECK_INT(truncate(t.log, (off_t)ls.off[2]), 0); /* the last whole line gone */
	snprintf(want, sizeof(want),
		 "%s: the log ends at line 2 but the audit state expects line 4 next (lines "
		 "missing): check with protocolfs audit verify",
		 t.log);
	open_refused(&t, -EBADMSG, want);
	lines_free(&ls);
}

/* A copy of the last line appended again (or earlier lines replayed after it):
 * every line still hashes as the state expects, but the seqs do not run on. */
TEST(open_refuses_log_with_a_repeated_line)
{
	struct tdir t;
	struct lines ls;
	char want[512];
	size_t size;
	int fd;

	make_log(&t, "r-repeat", 3);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	size = ls.off[2] + ls.len[2] + 1;
	fd = open(t.log, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, ls.l[2], ls.len[2]), ls.len[2]);
	CHECK_INT(write(fd, "\n", 1), 1);
	close(fd);
	snprintf(want, sizeof(want),
		 "%s: byte %zu: the log does not continue the audit state: check with protocolfs "
		 "audit verify",
		 t.log, size);
	open_refused(&t, -EBADMSG, want);
	/* lines 2 and 3 again after line 3 */
	CHECK_INT(truncate(t.log, (off_t)size), 0);
	fd = open(t.log, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	for (unsigned i = 1; i < 3; i++) {
		CHECK_INT(write(fd, ls.l[i], ls.len[i]), ls.len[i]);
		CHECK_INT(write(fd, "\n", 1), 1);
	}
	close(fd);
	open_refused(&t, -EBADMSG, want);
	lines_free(&ls);
}

TEST(open_refuses_log_without_state)
{
	struct tdir t;
	char want[512];

	make_log(&t, "r-nostate", 1);
	CHECK_INT(unlink(t.statefile), 0);
	snprintf(want, sizeof(want),
		 "%s: an audit log exists but %s does not: the chain cannot be continued (move "
		 "the old log away and keep it)",
		 t.log, t.statefile);
	open_refused(&t, -EEXIST, want);
}

TEST(open_mends_a_torn_last_line)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	uint8_t key[AUDIT_KEY_BYTES];
	char err[512] = "";
	int fd;

	make_log(&t, "mend", 2);
	fd = open(t.log, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "{\"seq\":3,\"ts\":", 14), 14);
	close(fd);
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	audit_close(a);
	CHECK(key_read(t.key, key));
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	CHECK_INT(chain_check(&ls, key), -1);
	CHECK(ls.n == 3 && strstr(ls.l[2], "\"event\":\"mend\"") &&
	      strstr(ls.l[2], "\"detail\":\"removed a torn last line of 14 bytes (a write was "
			      "cut short)\""));
	lines_free(&ls);
}

/* ------------------------------------------------------------ rate limits */

TEST(rate_per_user_exact_and_one_alert_each)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "";
	unsigned ok1000 = 0, ok1256 = 0, first1000 = 0, first1256 = 0;

	tdir_new(&t, "rate-user");
	t.o.max_per_minute = 3;
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 7; i++) {
		bool x = audit_rate_take(a, 1000, getpid(), "partner");
		bool y = audit_rate_take(a, 1256, getpid(), "partner");
		ok1000 += x, ok1256 += y;
		first1000 += x && i < 3, first1256 += y && i < 3;
	}
	CHECK_INT(ok1000, 3);
	CHECK_INT(ok1256, 3);
	CHECK_INT(first1000, 3); /* the first three, not any three */
	CHECK_INT(first1256, 3);
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 2);
	CHECK_INT(lines_with(&ls, "\"event\":\"alert\"", NULL, NULL), 2);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"alert\",\"result\":\"denied\",\"reason\":\"user over "
			     "max_opens_per_minute\",\"uid\":1000,",
			     NULL, NULL),
		  1);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"alert\",\"result\":\"denied\",\"reason\":\"user over "
			     "max_opens_per_minute\",\"uid\":1256,",
			     NULL, NULL),
		  1);
	lines_free(&ls);
}

TEST(rate_per_profile_shared)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "";
	unsigned ok = 0;

	tdir_new(&t, "rate-profile");
	t.o.max_per_minute_profile = 4;
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 5; i++) {
		ok += audit_rate_take(a, 2000, getpid(), "partner");
		ok += audit_rate_take(a, 2001, getpid(), "partner");
	}
	CHECK_INT(ok, 4);
	CHECK(audit_rate_take(a, 2000, getpid(), "beheerder")); /* another profile */
	CHECK(audit_rate_take(a, 2002, getpid(), NULL));	/* no profile: no profile limit */
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 1);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"alert\",\"result\":\"denied\",\"reason\":\"profile over "
			     "max_opens_per_minute_profile\",\"uid\":2000,",
			     "\"profile\":\"partner\"", NULL),
		  1);
	lines_free(&ls);
}

/* Only allowed opens count for the profile; an open the profile refuses still
 * counts for the user (README, "Rate limits and denial floods"). */
TEST(rate_user_and_profile_together)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "";
	unsigned ok = 0;

	tdir_new(&t, "rate-both");
	t.o.max_per_minute = 3;
	t.o.max_per_minute_profile = 4;
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 6; i++)
		ok += audit_rate_take(a, 4000, getpid(), "partner");
	CHECK_INT(ok, 3); /* the user's refused three did not count for the profile */
	ok = 0;
	for (unsigned i = 0; i < 3; i++)
		ok += audit_rate_take(a, 4001, getpid(), "partner");
	CHECK_INT(ok, 1);
	audit_limits_set(a, 3, 100); /* the profile's refusals counted for the user */
	CHECK(!audit_rate_take(a, 4001, getpid(), "partner"));
	CHECK(audit_rate_take(a, 4002, getpid(), "partner"));
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	CHECK_INT(lines_with(&ls, "\"reason\":\"user over max_opens_per_minute\",\"uid\":4000,",
			     NULL, NULL),
		  1);
	CHECK_INT(lines_with(
		      &ls, "\"reason\":\"profile over max_opens_per_minute_profile\",\"uid\":4001,",
		      NULL, NULL),
		  1);
	CHECK_INT(lines_with(&ls, "\"reason\":\"user over max_opens_per_minute\",\"uid\":4001,",
			     NULL, NULL),
		  1);
	lines_free(&ls);
}

TEST(rate_no_limit_always_true)
{
	struct tdir t;
	struct audit *a = NULL;
	char err[512] = "";
	unsigned ok = 0;

	tdir_new(&t, "rate-none");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 1000; i++)
		ok += audit_rate_take(a, 1000, getpid(), "partner");
	CHECK_INT(ok, 1000);
	audit_close(a);
	CHECK_INT(file_lines(t.log), 0);
}

TEST(rate_limits_set_applies_at_once)
{
	struct tdir t;
	struct audit *a = NULL;
	char err[512] = "";
	unsigned ok = 0;

	tdir_new(&t, "rate-set");
	t.o.max_per_minute = 10;
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 5; i++)
		ok += audit_rate_take(a, 1000, getpid(), "partner");
	CHECK_INT(ok, 5);
	audit_limits_set(a, 3, 0); /* lowered: 5 in the window already */
	CHECK(!audit_rate_take(a, 1000, getpid(), "partner"));
	CHECK(audit_rate_take(a, 1001, getpid(), "partner")); /* others still have 3 */
	audit_limits_set(a, 8, 0);			      /* raised: 3 more */
	ok = 0;
	for (unsigned i = 0; i < 5; i++)
		ok += audit_rate_take(a, 1000, getpid(), "partner");
	CHECK_INT(ok, 3);
	audit_limits_set(a, 0, 0); /* none */
	CHECK(audit_rate_take(a, 1000, getpid(), "partner"));
	audit_limits_set(a, 0, 2); /* per profile only, from now */
	CHECK(audit_rate_take(a, 1000, getpid(), "partner"));
	CHECK(audit_rate_take(a, 1000, getpid(), "partner"));
	CHECK(!audit_rate_take(a, 1000, getpid(), "partner"));
	audit_close(a);
	CHECK_INT(file_lines(t.log), 3); /* one alert per refusal streak */
}

/* ------------------------------------------------------------ denials */

TEST(denials_twenty_in_full_then_counted)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "", path[32];
	const char *since;

	tdir_new(&t, "deny");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	CHECK_INT(deny(a, 3000, getpid(), "/name00"), 0);
	CHECK_INT(deny(a, 3000, getpid(), "/name00"), 0); /* the kernel's second lookup */
	CHECK_INT(file_lines(t.log), 1);
	for (unsigned i = 1; i < 25; i++) {
		snprintf(path, sizeof(path), "/name%02u", i);
		CHECK_INT(deny(a, 3000, getpid(), path), 0);
	}
	CHECK_INT(file_lines(t.log), 20);
	CHECK_INT(deny(a, 3000, getpid(), "/name24"), 0); /* a repeat: not counted */
	audit_tick(a, false);				  /* not 60 s old: nothing */
	CHECK_INT(file_lines(t.log), 20);
	audit_tick(a, true);
	audit_tick(a, true); /* nothing pending any more */
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 21);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"lookup\",\"result\":\"denied\",\"reason\":\"caller has "
			     "no profile\",\"uid\":3000,",
			     NULL, NULL),
		  20);
	CHECK_INT(lines_with(&ls, "\"path\":\"/name19\"", NULL, NULL), 1);
	CHECK_INT(lines_with(&ls, "\"path\":\"/name20\"", NULL, NULL), 0);
	CHECK_INT(lines_with(&ls, "\"event\":\"denials\"", NULL, NULL), 1);
	CHECK(ls.n == 21 &&
	      strstr(ls.l[20], "\"event\":\"denials\",\"result\":\"denied\",\"reason\":\"caller "
			       "has no profile\",\"uid\":3000,") &&
	      strstr(ls.l[20], "\"pid\":null,\"comm\":null,\"profile\":null,\"path\":null,") &&
	      strstr(ls.l[20], ",\"count\":5,\"since\":\"20"));
	since = ls.n == 21 ? strstr(ls.l[20], ",\"since\":\"") : NULL;
	/* "since":"YYYY-MM-DDTHH:MM:SS.mmmZ" */
	CHECK(since && strlen(since) > 35 && since[14] == '-' && since[20] == 'T' &&
	      since[29] == '.' && since[33] == 'Z' && since[34] == '"');
	lines_free(&ls);
	audit_close(a);
	CHECK_INT(file_lines(t.log), 21);
}

TEST(denials_counted_per_uid)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "", path[32];

	tdir_new(&t, "deny-uids");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 23; i++) {
		snprintf(path, sizeof(path), "/n%02u", i);
		CHECK_INT(deny(a, 3002, getpid(), path), 0);
		CHECK_INT(deny(a, 3258, getpid(), path), 0); /* 256 apart */
	}
	audit_close(a); /* the final tick */
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 42);
	CHECK_INT(lines_with(&ls, "\"event\":\"lookup\"", "\"uid\":3002,", NULL), 20);
	CHECK_INT(lines_with(&ls, "\"event\":\"lookup\"", "\"uid\":3258,", NULL), 20);
	CHECK_INT(lines_with(&ls, "\"event\":\"denials\"", "\"uid\":3002,", ",\"count\":3,"), 1);
	CHECK_INT(lines_with(&ls, "\"event\":\"denials\"", "\"uid\":3258,", ",\"count\":3,"), 1);
	lines_free(&ls);
}

/* The key is caller, reason and profile: each has its own 20, and the "denials"
 * line names the reason and profile it counts. */
TEST(denials_counted_per_reason_and_profile)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "", path[32];

	tdir_new(&t, "deny-profile");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	for (unsigned i = 0; i < 24; i++) {
		struct audit_event ev = {.event = "open",
					 .result = "denied",
					 .reason = "not the caller's view",
					 .has_caller = true,
					 .uid = 3100,
					 .pid = getpid(),
					 .profile = "partner",
					 .path = path};
		snprintf(path, sizeof(path), "/INB%07u.txt", i);
		CHECK_INT(audit_append(a, &ev), 0);
		CHECK_INT(deny(a, 3100, getpid(), path), 0); /* another reason, no profile */
	}
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 42);
	CHECK_INT(lines_with(&ls, "\"event\":\"open\"", "\"profile\":\"partner\"", NULL), 20);
	CHECK_INT(lines_with(&ls, "\"event\":\"lookup\"", "\"profile\":null", NULL), 20);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"denials\",\"result\":\"denied\",\"reason\":\"not the "
			     "caller's view\",\"uid\":3100,",
			     "\"profile\":\"partner\",\"path\":null,", ",\"count\":4,"),
		  1);
	CHECK_INT(lines_with(&ls,
			     "\"event\":\"denials\",\"result\":\"denied\",\"reason\":\"caller has "
			     "no profile\",\"uid\":3100,",
			     "\"profile\":null,\"path\":null,", ",\"count\":4,"),
		  1);
	lines_free(&ls);
}

TEST(denied_name_cut_to_100_bytes)
{
	struct tdir t;
	struct audit *a = NULL;
	struct lines ls;
	char err[512] = "", name[301], want[200], name2[160];

	tdir_new(&t, "deny-cut");
	CHECK_INT(audit_open(&a, &t.o, err, sizeof(err)), 0);
	if (!a)
		return;
	name[0] = '/';
	memset(name + 1, 'x', 299);
	name[300] = 0;
	CHECK_INT(deny(a, 3001, getpid(), name), 0);
	/* exactly 100 bytes: kept */
	name[100] = 0;
	CHECK_INT(deny(a, 3001, getpid(), name), 0);
	/* byte 100 inside a two-byte character: cut before it */
	memset(name2, 'y', 99);
	memcpy(name2 + 99, "\xc3\xa9", 2);
	memset(name2 + 101, 'z', 49);
	name2[150] = 0;
	CHECK_INT(deny(a, 3001, getpid(), name2), 0);
	audit_close(a);
	lines_read(&ls, t.log);
	CHECK_INT(ls.n, 3);
	snprintf(want, sizeof(want), "\"path\":\"%.100s\xe2\x80\xa6\",", name);
	CHECK(ls.n == 3 && strstr(ls.l[0], want));
	CHECK(ls.n == 3 && strstr(ls.l[0], "\"detail\":\"name cut to 100 of 300 bytes\""));
	snprintf(want, sizeof(want), "\"path\":\"%.100s\",", name);
	CHECK(ls.n == 3 && strstr(ls.l[1], want) && strstr(ls.l[1], "\"detail\":null"));
	snprintf(want, sizeof(want), "\"path\":\"%.99s\xe2\x80\xa6\",", name2);
	CHECK(ls.n == 3 && strstr(ls.l[2], want));
	CHECK(ls.n == 3 && strstr(ls.l[2], "\"detail\":\"name cut to 99 of 150 bytes\""));
	lines_free(&ls);
}

int main(void)
{
	char tmpl[] = "/tmp/pfs-aunit-XXXXXX";

	umask(022);
	if (sodium_init() < 0 || !mkdtemp(tmpl)) {
		printf("FAIL setup\n");
		return 1;
	}
	snprintf(g_root, sizeof(g_root), "%s", tmpl);
	RUN(chain_prev_seq_mac_verified_independently);
	RUN(chain_one_edited_byte_fails_the_mac);
	RUN(chain_continues_after_reopen);
	RUN(latch_after_reopen_finds_symlink);
	RUN(latch_after_reopen_finds_other_owner);
	RUN(latch_after_reopen_finds_group_writable);
	RUN(latch_after_reopen_finds_other_writable);
	RUN(reopen_of_a_good_new_file_writes_reopen_line);
	RUN(open_refuses_folder_writable_by_others);
	RUN(open_refuses_folder_of_another_user);
	RUN(open_refuses_log_of_another_user);
	RUN(open_refuses_log_symlink);
	RUN(open_refuses_log_writable_by_group);
	RUN(open_refuses_second_open_of_the_state);
	RUN(open_refuses_garbled_state);
	RUN(open_refuses_tail_that_does_not_continue_the_state);
	RUN(open_refuses_log_with_lines_missing);
	RUN(open_refuses_log_with_a_repeated_line);
	RUN(open_refuses_log_without_state);
	RUN(open_mends_a_torn_last_line);
	RUN(rate_per_user_exact_and_one_alert_each);
	RUN(rate_per_profile_shared);
	RUN(rate_user_and_profile_together);
	RUN(rate_no_limit_always_true);
	RUN(rate_limits_set_applies_at_once);
	RUN(denials_twenty_in_full_then_counted);
	RUN(denials_counted_per_uid);
	RUN(denials_counted_per_reason_and_profile);
	RUN(denied_name_cut_to_100_bytes);
	if (!unit_failed_total) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
		if (system(cmd) != 0)
			printf("  note: could not remove %s\n", g_root);
	}
	UNIT_EXIT();
}
