/* test_config.c — the config loader against config.h: every schema row (type,
 * bounds, default, required-ness), every refusal with its exact message naming
 * file, section and key, the file checks (owner, mode, type), separation of
 * duties, and config_bind against the signed field list. Fixtures are written
 * into a mkdtemp folder by the test itself. */
#include "config.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[PATH_MAX];	/* realpath of the mkdtemp folder */
static char cfgp[PATH_MAX + 8]; /* dir/c.ini */
static char err[2048];
static struct config *cfg;

/* The base config, one line per entry; tests drop and add lines. */
static const char *base[] = {
    "[dataset]",
    "path = data.pfs",
    "issuer_key = issuer.pub",
    "recipient_key = recipient.key",
    "state_dir = state",
    "[audit]",
    "log = audit.log",
    "verify_key = audit.pub",
    "[labels]",
    "first_name = Voornaam",
    "last_name = Familienaam",
    "[profile:clerk]",
    "fields = first_name",
    "users = 4000001",
    NULL,
};

static void put(const char *name, const void *text, size_t len, mode_t mode)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0)
		printf("  helper: cannot write %s\n", p);
	if (fd >= 0)
		close(fd);
}

static int load_bytes(const char *text, size_t len)
{
	put("c.ini", text, len, 0644);
	config_free(cfg);
	cfg = NULL;
	err[0] = 0;
	return config_load(&cfg, cfgp, err, sizeof(err));
}

static int load(const char *text)
{
	return load_bytes(text, strlen(text));
}

/* The base config without the line starting with drop (a "section key" pair,
 * e.g. "dataset path"), with add inserted right after the header of section sec
 * (sec NULL: add at the end). */
static int load_edit(const char *drop, const char *sec, const char *add)
{
	char text[8192] = "", cur[64] = "", dsec[64] = "", dkey[64] = "", hdr[80];
	bool added = false;

	if (drop)
		sscanf(drop, "%63s %63s", dsec, dkey);
	snprintf(hdr, sizeof(hdr), "[%s]", sec ? sec : "");
	for (const char **l = base; *l; l++) {
		size_t kl = strlen(dkey);
		if ((*l)[0] == '[')
			snprintf(cur, sizeof(cur), "%.*s", (int)strlen(*l) - 2, *l + 1);
		if (drop && strcmp(cur, dsec) == 0 && strncmp(*l, dkey, kl) == 0 && (*l)[kl] == ' ')
			continue;
		strcat(text, *l);
		strcat(text, "\n");
		if (add && sec && strcmp(*l, hdr) == 0) {
			strcat(text, add);
			strcat(text, "\n");
			added = true;
		}
	}
	if (add && !added) {
		strcat(text, add);
		strcat(text, "\n");
	}
	return load(text);
}

/* An expected message: fmt with every '@' replaced by the config's path and
 * every '%' by the folder's path. */
static const char *W(const char *fmt)
{
	static char out[4][4096];
	static int n;
	char *o = out[n++ % 4], *start = o;

	for (const char *c = fmt; *c; c++) {
		if (*c == '@')
			o += sprintf(o, "%s", cfgp);
		else if (*c == '%')
			o += sprintf(o, "%s", dir);
		else
			*o++ = *c;
	}
	*o = 0;
	return start;
}

/* Loading fails with rc and exactly this message, and leaves no config. */
#define REFUSED(call, rc, msg)                                                                     \
	do {                                                                                       \
		CHECK_INT((call), (rc));                                                           \
		CHECK(cfg == NULL);                                                                \
		CHECK_STR(err, W(msg));                                                            \
	} while (0)

static void setup(void)
{
	char tmpl[] = "/tmp/pfs-unit-cfg.XXXXXX", p[PATH_MAX + 64];

	if (!mkdtemp(tmpl) || !realpath(tmpl, dir)) {
		printf("  setup: mkdtemp failed\n");
		exit(2);
	}
	chmod(dir, 0755);
	snprintf(cfgp, sizeof(cfgp), "%s/c.ini", dir);
	put("data.pfs", "d", 1, 0644);
	put("issuer.pub", "i", 1, 0644);
	put("recipient.key", "r", 1, 0600);
	put("pass.txt", "p", 1, 0600);
	snprintf(p, sizeof(p), "%s/state", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/notes", dir);
	mkdir(p, 0755);
}

TEST(minimal_config_and_defaults)
{
	CHECK_INT(load_edit(NULL, NULL, NULL), 0);
	CHECK_STR(err, "");
	if (!cfg)
		return;
	CHECK_STR(cfg->path, cfgp);
	CHECK_STR(cfg->dataset, W("%/data.pfs"));
	CHECK_STR(cfg->issuer_key, W("%/issuer.pub"));
	CHECK_STR(cfg->recipient_key, W("%/recipient.key"));
	CHECK_STR(cfg->state_dir, W("%/state"));
	CHECK_STR(cfg->audit_log, W("%/audit.log"));
	CHECK_STR(cfg->audit_verify_key, W("%/audit.pub"));
	/* defaults */
	CHECK_STR(cfg->passphrase_file, "");
	CHECK_STR(cfg->notices_dir, W("%/state/notices"));
	CHECK_STR(cfg->purge, "manual");
	CHECK_STR(cfg->audit_sync, "always");
	CHECK_INT(cfg->audit_sync_interval_ms, 1000);
	CHECK_INT(cfg->audit_max_per_minute, 0);
	CHECK_INT(cfg->audit_max_per_minute_profile, 0);
	CHECK_INT(cfg->nlabels, 2);
	CHECK_STR(cfg->label_field[1], "last_name");
	CHECK_STR(cfg->label[1], "Familienaam");
	CHECK_INT(cfg->nprofiles, 1);
	CHECK_STR(cfg->profiles[0].name, "clerk");
	CHECK_STR(cfg->profiles[0].description, "");
	CHECK_INT(cfg->profiles[0].nfields, 1);
	CHECK_STR(cfg->profiles[0].field_name[0], "first_name");
	CHECK_INT(cfg->profiles[0].nuids, 1);
	CHECK_INT(cfg->profiles[0].uids[0], 4000001);
	CHECK_INT(cfg->profiles[0].ngids, 0);
	CHECK_STR(cfg->profiles[0].users_text, "4000001");
	CHECK(!cfg->uses_groups);
}

TEST(every_optional_key_set)
{
	const char *text = "[dataset]\n"
			   "path = data.pfs\n"
			   "issuer_key = issuer.pub\n"
			   "recipient_key = recipient.key\n"
			   "passphrase_file = pass.txt\n"
			   "state_dir = state\n"
			   "notices = notes\n"
			   "purge = auto\n"
			   "[audit]\n"
			   "log = /var/log/pfs-audit.log\n"
			   "verify_key = audit.pub\n"
			   "sync = batch\n"
			   "sync_interval_ms = 250\n"
			   "max_opens_per_minute = 30\n"
			   "max_opens_per_minute_profile = 300\n"
			   "[labels]\n"
			   "first_name = Voornaam\n"
			   "[profile:clerk]\n"
			   "description = Loket burgerzaken\n"
			   "fields = first_name\n"
			   "users = 4000001, 4000002\n"
			   "groups = 4000101\n";

	CHECK_INT(load(text), 0);
	CHECK_STR(err, "");
	if (!cfg)
		return;
	CHECK_STR(cfg->passphrase_file, W("%/pass.txt"));
	CHECK_STR(cfg->notices_dir, W("%/notes"));
	CHECK_STR(cfg->purge, "auto");
	CHECK_STR(cfg->audit_log, "/var/log/pfs-audit.log");
	CHECK_STR(cfg->audit_sync, "batch");
	CHECK_INT(cfg->audit_sync_interval_ms, 250);
	CHECK_INT(cfg->audit_max_per_minute, 30);
	CHECK_INT(cfg->audit_max_per_minute_profile, 300);
	CHECK_STR(cfg->profiles[0].description, "Loket burgerzaken");
	CHECK_INT(cfg->profiles[0].nuids, 2);
	CHECK_INT(cfg->profiles[0].uids[1], 4000002);
	CHECK_INT(cfg->profiles[0].ngids, 1);
	CHECK_INT(cfg->profiles[0].gids[0], 4000101);
	CHECK_STR(cfg->profiles[0].groups_text, "4000101");
	CHECK(cfg->uses_groups);
}

TEST(each_required_key_missing)
{
	REFUSED(load_edit("dataset path", NULL, NULL), -EINVAL, "@: [dataset] path: missing");
	REFUSED(load_edit("dataset issuer_key", NULL, NULL), -EINVAL,
		"@: [dataset] issuer_key: missing");
	REFUSED(load_edit("dataset recipient_key", NULL, NULL), -EINVAL,
		"@: [dataset] recipient_key: missing");
	REFUSED(load_edit("dataset state_dir", NULL, NULL), -EINVAL,
		"@: [dataset] state_dir: missing");
	REFUSED(load_edit("audit log", NULL, NULL), -EINVAL, "@: [audit] log: missing");
	REFUSED(load_edit("audit verify_key", NULL, NULL), -EINVAL,
		"@: [audit] verify_key: missing");
	REFUSED(load_edit("profile:clerk fields", NULL, NULL), -EINVAL,
		"@: [profile:clerk] fields: missing");
	/* users and groups are optional: a profile nobody matches */
	CHECK_INT(load_edit("profile:clerk users", NULL, NULL), 0);
	CHECK_STR(err, "");
}

TEST(no_profile)
{
	REFUSED(load("[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
		     "recipient_key = recipient.key\nstate_dir = state\n"
		     "[audit]\nlog = a.log\nverify_key = a.pub\n"),
		-EINVAL, "@: no [profile:NAME] section");
	/* an empty profile section still needs its fields */
	REFUSED(load_edit(NULL, NULL, "[profile:empty]"), -EINVAL,
		"@: [profile:empty] fields: missing");
}

TEST(uint_bounds)
{
	const char *iv = "@: [audit] sync_interval_ms: must be a whole number from 1 to 60000";
	const char *mu =
	    "@: [audit] max_opens_per_minute: must be a whole number from 0 to 1000000";
	const char *mp = "@: [audit] max_opens_per_minute_profile: must be a whole number from 0 "
			 "to 10000000";

	CHECK_INT(load_edit(NULL, "audit", "sync_interval_ms = 1"), 0);
	CHECK(cfg && cfg->audit_sync_interval_ms == 1);
	CHECK_INT(load_edit(NULL, "audit", "sync_interval_ms = 60000"), 0);
	CHECK(cfg && cfg->audit_sync_interval_ms == 60000);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 0"), -EINVAL, iv);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 60001"), -EINVAL, iv);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = -1"), -EINVAL, iv);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 1e3"), -EINVAL, iv);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 0x10"), -EINVAL, iv);
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 12 ms"), -EINVAL, iv);
	/* 2^64 + 1000 must not wrap to 1000 */
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 18446744073709552616"), -EINVAL, iv);
	CHECK_INT(load_edit(NULL, "audit", "max_opens_per_minute = 0"), 0);
	CHECK_INT(load_edit(NULL, "audit", "max_opens_per_minute = 1000000"), 0);
	CHECK(cfg && cfg->audit_max_per_minute == 1000000);
	REFUSED(load_edit(NULL, "audit", "max_opens_per_minute = 1000001"), -EINVAL, mu);
	CHECK_INT(load_edit(NULL, "audit", "max_opens_per_minute_profile = 10000000"), 0);
	CHECK(cfg && cfg->audit_max_per_minute_profile == 10000000);
	REFUSED(load_edit(NULL, "audit", "max_opens_per_minute_profile = 10000001"), -EINVAL, mp);
}

TEST(word_values)
{
	CHECK_INT(load_edit(NULL, "audit", "sync = always"), 0);
	CHECK(cfg && strcmp(cfg->audit_sync, "always") == 0);
	REFUSED(load_edit(NULL, "audit", "sync = never"), -EINVAL,
		"@: [audit] sync: must be one of always|batch");
	REFUSED(load_edit(NULL, "audit", "sync = Batch"), -EINVAL,
		"@: [audit] sync: must be one of always|batch");
	REFUSED(load_edit(NULL, "audit", "sync = batc"), -EINVAL,
		"@: [audit] sync: must be one of always|batch");
	REFUSED(load_edit(NULL, "audit", "sync = always|batch"), -EINVAL,
		"@: [audit] sync: must be one of always|batch");
	CHECK_INT(load_edit(NULL, "dataset", "purge = manual"), 0);
	REFUSED(load_edit(NULL, "dataset", "purge = yes"), -EINVAL,
		"@: [dataset] purge: must be one of auto|manual");
}

TEST(empty_values)
{
	REFUSED(load_edit("dataset path", "dataset", "path ="), -EINVAL,
		"@: [dataset] path: empty value");
	REFUSED(load_edit(NULL, "audit", "sync ="), -EINVAL, "@: [audit] sync: empty value");
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = \"\""), -EINVAL,
		"@: [audit] sync_interval_ms: empty value");
	REFUSED(load_edit(NULL, "dataset", "passphrase_file ="), -EINVAL,
		"@: [dataset] passphrase_file: empty value");
	REFUSED(load_edit("labels first_name", "labels", "first_name ="), -EINVAL,
		"@: [labels] first_name: label must be non-empty, one line, without ':'");
	REFUSED(load_edit("profile:clerk users", "profile:clerk", "users = 4000001,,4000002"),
		-EINVAL, "@: [profile:clerk] users: empty item in list");
	REFUSED(load_edit("profile:clerk fields", "profile:clerk", "fields = first_name,"), -EINVAL,
		"@: [profile:clerk] fields: empty item in list");
	/* an empty users list is a profile nobody matches */
	CHECK_INT(load_edit("profile:clerk users", "profile:clerk", "users ="), 0);
	CHECK(cfg && cfg->profiles[0].nuids == 0);
}

TEST(unknown_section_key_and_stray_key)
{
	REFUSED(load_edit(NULL, NULL, "[daemon]\nuser = pfs"), -EINVAL,
		"@: [daemon]: unknown section");
	REFUSED(load_edit(NULL, "dataset", "colour = blue"), -EINVAL,
		"@: [dataset] colour: unknown key");
	REFUSED(load_edit(NULL, "audit", "path = x"), -EINVAL, "@: [audit] path: unknown key");
	REFUSED(load_edit(NULL, "profile:clerk", "log = x"), -EINVAL,
		"@: [profile:clerk] log: unknown key");
	REFUSED(load("stray = 1\n[dataset]\npath = data.pfs\n"), -EINVAL,
		"@: stray: key outside any section");
	/* names are case-insensitive: [DATASET] PATH is [dataset] path */
	CHECK_INT(load("[DATASET]\nPATH = data.pfs\nIssuer_Key = issuer.pub\n"
		       "recipient_key = recipient.key\nstate_dir = state\n"
		       "[Audit]\nlog = a.log\nverify_key = a.pub\n"
		       "[profile:Clerk]\nfields = x\n"),
		  0);
	CHECK(cfg && strcmp(cfg->profiles[0].name, "clerk") == 0);
}

TEST(key_named_like_a_section)
{
	/* CVE-2023-33461: iniparser's typed getters crash on a key that names a
	 * section; the loader must refuse such keys by name, not crash. */
	REFUSED(load_edit(NULL, "dataset", "audit = 1"), -EINVAL,
		"@: [dataset] audit: unknown key");
	REFUSED(load_edit(NULL, "audit", "sync_interval_ms = 5\n[daemon]\nsync_interval_ms = 7"),
		-EINVAL, "@: [daemon]: unknown section");
	REFUSED(load_edit(NULL, "audit", "dataset = x"), -EINVAL,
		"@: [audit] dataset: unknown key");
	REFUSED(load_edit(NULL, "profile:clerk", "profile:clerk = x"), -EINVAL,
		"@: [profile:clerk] profile:clerk: unknown key");
}

TEST(repeated_keys_and_sections)
{
	REFUSED(load_edit(NULL, "dataset", "path = other.pfs"), -EINVAL,
		"@:3: [dataset] path: given twice");
	REFUSED(load_edit(NULL, "dataset", "PATH = other.pfs"), -EINVAL,
		"@:3: [dataset] path: given twice");
	REFUSED(load_edit(NULL, "profile:clerk", "users = 4000002"), -EINVAL,
		"@:15: [profile:clerk] users: given twice");
	REFUSED(load_edit(NULL, NULL, "[dataset]\nnotices = notes"), -EINVAL,
		"@:15: [dataset]: given twice");
	/* the same key in two sections is not a repeat */
	CHECK_INT(load_edit(NULL, NULL, "[profile:other]\nfields = first_name\nusers = 4000002"),
		  0);
	CHECK(cfg && cfg->nprofiles == 2);
}

TEST(nul_byte_in_file)
{
	/* A NUL ends the line for iniparser and hides what follows it: a second user
	 * (root) after "4000001", a whole line (the opening rate limit), or the rest
	 * of a last line without a newline. Each file is refused, naming the line. */
	static const char head[] = "[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
				   "recipient_key = recipient.key\nstate_dir = state\n"
				   "[audit]\nlog = a.log\nverify_key = a.pub\n"
				   "[profile:clerk]\nfields = first_name\n";
	static const char mid[] = "users = 4000001\0, 0\n";
	static const char start[] = "[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
				    "recipient_key = recipient.key\nstate_dir = state\n"
				    "[audit]\nlog = a.log\nverify_key = a.pub\n"
				    "\0max_opens_per_minute = 30\n"
				    "[profile:clerk]\nfields = first_name\n";
	static const char last[] = "users = 4000001\0, 0";
	char text[1024];

	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, mid, sizeof(mid) - 1);
	REFUSED(load_bytes(text, sizeof(head) + sizeof(mid) - 2), -EINVAL,
		"@:11: NUL byte in the file");
	REFUSED(load_bytes(start, sizeof(start) - 1), -EINVAL, "@:9: NUL byte in the file");
	memcpy(text + sizeof(head) - 1, last, sizeof(last) - 1);
	REFUSED(load_bytes(text, sizeof(head) + sizeof(last) - 2), -EINVAL,
		"@:11: NUL byte in the file");
	/* the same files without the NUL load (a positive control) */
	memcpy(text + sizeof(head) - 1, "users = 4000001\n", 16);
	CHECK_INT(load_bytes(text, sizeof(head) - 1 + 16), 0);
}

TEST(config_file_checks)
{
	char p[PATH_MAX + 64];

	CHECK_INT(load_edit(NULL, NULL, NULL), 0);
	chmod(cfgp, 0664);
	config_free(cfg);
	cfg = NULL;
	REFUSED(config_load(&cfg, cfgp, err, sizeof(err)), -EPERM,
		"@: writable by group or others (chmod go-w)");
	chmod(cfgp, 0646);
	REFUSED(config_load(&cfg, cfgp, err, sizeof(err)), -EPERM,
		"@: writable by group or others (chmod go-w)");
	chmod(cfgp, 0644);
	CHECK(chown(cfgp, 4000001, 0) == 0);
	REFUSED(config_load(&cfg, cfgp, err, sizeof(err)), -EPERM,
		"@: owned by uid 4000001, not by root or the daemon's user");
	CHECK(chown(cfgp, 0, 0) == 0);
	snprintf(p, sizeof(p), "%s/none.ini", dir);
	REFUSED(config_load(&cfg, p, err, sizeof(err)), -ENOENT,
		"%/none.ini: No such file or directory");
	snprintf(p, sizeof(p), "%s/state", dir);
	REFUSED(config_load(&cfg, p, err, sizeof(err)), -EINVAL, "%/state: not a regular file");
}

/* Unreadable: root reads everything, so the load runs in a child that drops to
 * uid/gid 65534 and hands back rc and message through a pipe. */
TEST(config_file_unreadable)
{
	int fds[2], status = 0, rc = 0;
	pid_t pid;

	CHECK_INT(load_edit(NULL, NULL, NULL), 0); /* readable by root: a positive control */
	CHECK(pipe(fds) == 0);
	CHECK(chown(cfgp, 0, 0) == 0 && chmod(cfgp, 0600) == 0);
	pid = fork();
	if (pid == 0) {
		struct config *c = NULL;
		char e[2048] = "";
		close(fds[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		rc = config_load(&c, cfgp, e, sizeof(e));
		if (write(fds[1], &rc, sizeof(rc)) < 0 || write(fds[1], e, strlen(e) + 1) < 0)
			_exit(4);
		_exit(c == NULL ? 0 : 5);
	}
	close(fds[1]);
	err[0] = 0;
	CHECK(read(fds[0], &rc, sizeof(rc)) == sizeof(rc));
	CHECK(read(fds[0], err, sizeof(err) - 1) > 0);
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(rc, -EACCES);
	CHECK_STR(err, W("@: Permission denied"));
	chmod(cfgp, 0644);
}

TEST(referenced_file_checks)
{
	put("wr.pub", "i", 1, 0664);
	put("ww.pub", "i", 1, 0646);
	put("open.key", "r", 1, 0640);
	put("world.key", "r", 1, 0604);
	put("other.pub", "i", 1, 0644);
	CHECK(chown(W("%/other.pub"), 4000001, 4000001) == 0);
	REFUSED(load_edit("dataset path", "dataset", "path = nothere.pfs"), -ENOENT,
		"@: [dataset] path: %/nothere.pfs: No such file or directory");
	REFUSED(load_edit("dataset path", "dataset", "path = state"), -EINVAL,
		"@: [dataset] path: %/state: not a regular file");
	REFUSED(load_edit("dataset state_dir", "dataset", "state_dir = data.pfs"), -EINVAL,
		"@: [dataset] state_dir: %/data.pfs: not a directory");
	REFUSED(load_edit("dataset state_dir", "dataset", "state_dir = gone"), -ENOENT,
		"@: [dataset] state_dir: %/gone: No such file or directory");
	REFUSED(load_edit("dataset issuer_key", "dataset", "issuer_key = wr.pub"), -EPERM,
		"@: [dataset] issuer_key: %/wr.pub: writable by group or others (chmod go-w)");
	REFUSED(load_edit("dataset issuer_key", "dataset", "issuer_key = ww.pub"), -EPERM,
		"@: [dataset] issuer_key: %/ww.pub: writable by group or others (chmod go-w)");
	REFUSED(load_edit("dataset issuer_key", "dataset", "issuer_key = other.pub"), -EPERM,
		"@: [dataset] issuer_key: %/other.pub: owned by uid 4000001, not by root or the "
		"daemon's user");
	/* a public key may be world-readable, a secret one may not */
	REFUSED(load_edit("dataset recipient_key", "dataset", "recipient_key = issuer.pub"), -EPERM,
		"@: [dataset] recipient_key: %/issuer.pub: readable by group or others (chmod "
		"600)");
	REFUSED(load_edit("dataset recipient_key", "dataset", "recipient_key = open.key"), -EPERM,
		"@: [dataset] recipient_key: %/open.key: readable by group or others (chmod 600)");
	REFUSED(load_edit(NULL, "dataset", "passphrase_file = world.key"), -EPERM,
		"@: [dataset] passphrase_file: %/world.key: readable by group or others (chmod "
		"600)");
	/* the state folder must not be writable by others either */
	CHECK(chmod(W("%/state"), 0777) == 0);
	REFUSED(load_edit(NULL, NULL, NULL), -EPERM,
		"@: [dataset] state_dir: %/state: writable by group or others (chmod go-w)");
	CHECK(chmod(W("%/state"), 0755) == 0);
	/* audit paths need not exist yet */
	CHECK_INT(load_edit("audit log", "audit", "log = new/audit.log"), 0);
	CHECK(cfg && strcmp(cfg->audit_log, W("%/new/audit.log")) == 0);
}

TEST(profile_lists)
{
	REFUSED(load_edit("profile:clerk users", "profile:clerk", "users = pfsu_no_such_user"),
		-ENOENT, "@: [profile:clerk] users: unknown user \"pfsu_no_such_user\"");
	REFUSED(load_edit(NULL, "profile:clerk", "groups = pfsu_no_such_group"), -ENOENT,
		"@: [profile:clerk] groups: unknown group \"pfsu_no_such_group\"");
	REFUSED(load_edit("profile:clerk fields", "profile:clerk",
			  "fields = first_name, last_name, first_name"),
		-EINVAL, "@: [profile:clerk] fields: field \"first_name\" listed twice");
	REFUSED(load_edit("profile:clerk fields", "profile:clerk",
			  "fields = f23456789012345678901234567890123456789012345678901234567890"
			  "12345"),
		-EINVAL,
		"@: [profile:clerk] fields: unknown field id "
		"\"f2345678901234567890123456789012345678901234567890123456789012345\"");
	/* names resolve through the account database, numbers are taken as given */
	CHECK_INT(load_edit("profile:clerk users", "profile:clerk", "users = root , 4000002"), 0);
	CHECK(cfg && cfg->profiles[0].nuids == 2 && cfg->profiles[0].uids[0] == 0 &&
	      cfg->profiles[0].uids[1] == 4000002);
	CHECK(cfg && strcmp(cfg->profiles[0].users_text, "root , 4000002") == 0);
	CHECK_INT(load_edit(NULL, "profile:clerk", "groups = root"), 0);
	CHECK(cfg && cfg->profiles[0].ngids == 1 && cfg->profiles[0].gids[0] == 0);
	CHECK_INT(
	    load_edit("profile:clerk fields", "profile:clerk", "fields = last_name , first_name"),
	    0);
	CHECK(cfg && cfg->profiles[0].nfields == 2 &&
	      strcmp(cfg->profiles[0].field_name[0], "last_name") == 0);
}

TEST(profile_names)
{
	REFUSED(load_edit(NULL, NULL, "[profile:]\nfields = first_name"), -EINVAL,
		"@: [profile:]: empty profile name");
	REFUSED(load_edit(NULL, NULL, "[profile:a b]\nfields = first_name"), -EINVAL,
		"@: [profile:a b]: profile name too long or has spaces, quotes or slashes");
	REFUSED(load_edit(NULL, NULL, "[profile:a/b]\nfields = first_name"), -EINVAL,
		"@: [profile:a/b]: profile name too long or has spaces, quotes or slashes");
	REFUSED(load_edit(NULL, NULL,
			  "[profile:n234567890123456789012345678901234567890123456789012345678901"
			  "2345]\nfields = first_name"),
		-EINVAL,
		"@: [profile:n2345678901234567890123456789012345678901234567890123456789012345]: "
		"profile name too long or has spaces, quotes or slashes");
	CHECK_INT(load_edit(NULL, NULL,
			    "[profile:n23456789012345678901234567890123456789012345678901234567890"
			    "1234]\nfields = first_name"),
		  0);
}

TEST(value_and_label_limits)
{
	char line[700];

	memset(line, 'x', sizeof(line));
	memcpy(line, "description = ", 14);
	line[14 + CONFIG_TEXT_MAX] = 0; /* a value of CONFIG_TEXT_MAX bytes: one too many */
	REFUSED(load_edit(NULL, "profile:clerk", line), -EINVAL,
		"@: [profile:clerk] description: value too long");
	line[14 + CONFIG_TEXT_MAX - 1] = 0;
	CHECK_INT(load_edit(NULL, "profile:clerk", line), 0);
	REFUSED(load_edit("labels first_name", "labels", "first_name = Naam: voor"), -EINVAL,
		"@: [labels] first_name: label must be non-empty, one line, without ':'");
	REFUSED(load_edit("labels first_name", "labels", "first_name = Voor\tnaam"), -EINVAL,
		"@: [labels] first_name: label must be non-empty, one line, without ':'");
}

TEST(separation_of_duties)
{
	REFUSED(load_edit(NULL, NULL, "[profile:other]\nfields = first_name\nusers = 4000001"),
		-EINVAL,
		"@: [profile:clerk] users: uid 4000001 is also in profile \"other\" (separation "
		"of duties)");
	REFUSED(load_edit(NULL, NULL,
			  "[profile:a]\nfields = first_name\ngroups = 4000101\n"
			  "[profile:b]\nfields = first_name\ngroups = 4000102, 4000101"),
		-EINVAL,
		"@: [profile:a] groups: gid 4000101 is also in profile \"b\" (separation of "
		"duties)");
	/* root by name in one profile, root's group in another */
	REFUSED(load_edit("profile:clerk users", NULL,
			  "users = root\n[profile:wheel]\nfields = first_name\ngroups = 0"),
		-EINVAL,
		"@: [profile:wheel] groups: user root (a member of gid 0) would match profiles "
		"\"clerk\" and \"wheel\" (one person, one profile: separation of duties)");
	/* the same uid twice in one profile is not a conflict */
	CHECK_INT(load_edit("profile:clerk users", "profile:clerk", "users = root, 0"), 0);
}

static void terms(struct dataset_terms *t)
{
	memset(t, 0, sizeof(*t));
	t->nfields = 3;
	strcpy(t->fields[0], "first_name");
	strcpy(t->fields[1], "last_name");
	strcpy(t->fields[2], "street");
}

TEST(bind_against_signed_fields)
{
	struct dataset_terms t;

	terms(&t);
	CHECK_INT(
	    load_edit("profile:clerk fields", "profile:clerk", "fields = last_name, first_name"),
	    0);
	if (!cfg)
		return;
	CHECK_INT(config_bind(cfg, &t, err, sizeof(err)), 0);
	/* sorted into the dataset's order */
	CHECK_INT(cfg->profiles[0].nfields, 2);
	CHECK_INT(cfg->profiles[0].field[0], 0);
	CHECK_INT(cfg->profiles[0].field[1], 1);
	CHECK_STR(config_label(cfg, &t, 0), "Voornaam");
	CHECK_STR(config_label(cfg, &t, 1), "Familienaam");
	CHECK_STR(config_label(cfg, &t, 2), "street"); /* no label: the field id */

	/* a label, and a profile, widening the signed terms */
	CHECK_INT(load("[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
		       "recipient_key = recipient.key\nstate_dir = state\n"
		       "[audit]\nlog = a.log\nverify_key = a.pub\n"
		       "[labels]\nfirst_name = Voornaam\nbsn = BSN\n"
		       "[profile:clerk]\nfields = first_name, bsn\n"),
		  0);
	if (!cfg)
		return;
	t.nfields = 3;
	strcpy(t.fields[1], "bsn_other");
	err[0] = 0;
	CHECK_INT(config_bind(cfg, &t, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, W("@: [labels] bsn: not in the dataset's signed field list"));
	strcpy(t.fields[1], "last_name");
	/* the label list is fine but the profile still names bsn */
	CHECK_INT(load("[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
		       "recipient_key = recipient.key\nstate_dir = state\n"
		       "[audit]\nlog = a.log\nverify_key = a.pub\n"
		       "[labels]\nfirst_name = Voornaam\n"
		       "[profile:clerk]\nfields = first_name, bsn\n"),
		  0);
	if (!cfg)
		return;
	err[0] = 0;
	CHECK_INT(config_bind(cfg, &t, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, W("@: [profile:clerk] fields: unknown field id \"bsn\" (no label in "
			 "[labels])"));
	CHECK_INT(load("[dataset]\npath = data.pfs\nissuer_key = issuer.pub\n"
		       "recipient_key = recipient.key\nstate_dir = state\n"
		       "[audit]\nlog = a.log\nverify_key = a.pub\n"
		       "[labels]\nfirst_name = Voornaam\n"
		       "[profile:clerk]\nfields = first_name, street\n"),
		  0);
	if (!cfg)
		return;
	err[0] = 0;
	CHECK_INT(config_bind(cfg, &t, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, W("@: [profile:clerk] fields: unknown field id \"street\" (no label in "
			 "[labels])"));
}

TEST(digest_follows_bytes)
{
	unsigned char d1[CONFIG_DIGEST_BYTES];
	char hex[2 * CONFIG_DIGEST_BYTES + 1];
	struct config *a = NULL;

	CHECK_INT(load_edit(NULL, NULL, NULL), 0);
	if (!cfg)
		return;
	memcpy(d1, cfg->digest, sizeof(d1));
	config_digest_hex(cfg, hex);
	CHECK_INT(strlen(hex), 64);
	CHECK(strspn(hex, "0123456789abcdef") == 64);
	CHECK_INT(config_load(&a, cfgp, err, sizeof(err)), 0);
	CHECK(a && config_same(a, cfg));
	/* a comment changes the bytes, so the digest */
	CHECK_INT(load_edit(NULL, NULL, "; a comment"), 0);
	CHECK(a && cfg && !config_same(a, cfg));
	CHECK(cfg && memcmp(d1, cfg->digest, sizeof(d1)) != 0);
	config_free(a);
}

int main(void)
{
	setup();
	RUN(minimal_config_and_defaults);
	RUN(every_optional_key_set);
	RUN(each_required_key_missing);
	RUN(no_profile);
	RUN(uint_bounds);
	RUN(word_values);
	RUN(empty_values);
	RUN(unknown_section_key_and_stray_key);
	RUN(key_named_like_a_section);
	RUN(repeated_keys_and_sections);
	RUN(nul_byte_in_file);
	RUN(config_file_checks);
	RUN(config_file_unreadable);
	RUN(referenced_file_checks);
	RUN(profile_lists);
	RUN(profile_names);
	RUN(value_and_label_limits);
	RUN(separation_of_duties);
	RUN(bind_against_signed_fields);
	RUN(digest_follows_bytes);
	config_free(cfg);
	{
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("  cleanup failed\n");
	}
	UNIT_EXIT();
}
