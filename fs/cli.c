/* cli.c — main and the subcommand table. Each cmd_* parses its arguments, calls
 * one module function, and reports; no protocol decision is made here. */
#include "cli.h"
#include "audit.h"
#include "clock.h"
#include "dataset.h"
#include "expiry.h"
#include "fs.h"
#include "keys.h"
#include "notice.h"
#include "report.h"
#include "seal.h"
#include "service.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#define ERRLEN 1024

/* Set by the Makefile (VERSION), printed by --version and matched by the package. */
#ifndef PFS_VERSION
#define PFS_VERSION "unknown"
#endif

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "protocolfs: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_status(int rc)
{
	return rc == -EBADMSG || rc == -EKEYREJECTED ? CLI_BAD : CLI_ERROR;
}

static int cli_opt_find(const struct cli_opt *opts, const char *name, size_t len)
{
	for (int i = 0; opts && opts[i].name; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return i;
	return -1;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts, const char **pos,
	      int minpos, int maxpos, int *npos, const char *usage)
{
	unsigned seen = 0;
	int n = 0, only_pos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		int k;
		if (only_pos || a[0] != '-' || a[1] == 0) {
			if (n == maxpos) {
				cli_error(cmd, "unexpected argument (see protocolfs %s --help)",
					  cmd);
				return -1;
			}
			pos[n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		}
		eq = a[1] == '-' ? strchr(a, '=') : NULL;
		k = a[1] == '-'
			? cli_opt_find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2))
		    : a[2] == 0 ? cli_opt_find(opts, a + 1, 1)
				: -1;
		if (k < 0) {
			cli_error(cmd, "unknown option %s (see protocolfs %s --help)", a, cmd);
			return -1;
		}
		if (seen & (1u << k)) {
			cli_error(cmd, "option %s%s given twice", opts[k].name[1] ? "--" : "-",
				  opts[k].name);
			return -1;
		}
		seen |= 1u << k;
		if (!opts[k].has_arg) {
			if (eq) {
				cli_error(cmd, "option --%s takes no value", opts[k].name);
				return -1;
			}
			*opts[k].value = "1";
		} else if (eq) {
			*opts[k].value = eq + 1;
		} else if (i + 1 < argc) {
			*opts[k].value = argv[++i];
		} else {
			cli_error(cmd, "option --%s needs a value", opts[k].name);
			return -1;
		}
	}
	if (n < minpos) {
		cli_error(cmd, "missing arguments (see protocolfs %s --help)", cmd);
		return -1;
	}
	*npos = n;
	return 0;
}

/* ------------------------------------------------------------------ keygen */

static const char keygen_usage[] =
    "usage: protocolfs keygen issuer|recipient NAME [--passphrase-file F] [--force]\n"
    "\n"
    "Write NAME.pub and NAME.key (mode 0600). issuer: the agency's Ed25519 signing key.\n"
    "recipient: the city's X25519 decryption key. --passphrase-file protects the secret\n"
    "key with Argon2id; --force overwrites existing files.\n";

static int cmd_keygen(int argc, char **argv)
{
	const char *pass = NULL, *force = NULL, *pos[2];
	const struct cli_opt opts[] = {{"passphrase-file", 1, &pass}, {"force", 0, &force}, {0}};
	char err[ERRLEN];
	enum keys_kind kind;
	int n, rc = cli_parse("keygen", argc, argv, opts, pos, 2, 2, &n, keygen_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (strcmp(pos[0], "issuer") == 0) {
		kind = KEYS_ISSUER;
	} else if (strcmp(pos[0], "recipient") == 0) {
		kind = KEYS_RECIPIENT;
	} else {
		cli_error("keygen", "key kind must be issuer or recipient, not \"%s\"", pos[0]);
		return CLI_ERROR;
	}
	rc = keys_generate(kind, pos[1], pass, force != NULL, err, sizeof(err));
	if (rc < 0) {
		cli_error("keygen", "%s", err);
		return cli_status(rc);
	}
	printf("wrote %s.pub and %s.key (%s key%s)\n", pos[1], pos[1], keys_kind_name(kind),
	       pass ? ", passphrase-protected" : "");
	return CLI_OK;
}

/* -------------------------------------------------------------------- seal */

static const char seal_usage[] =
    "usage: protocolfs seal --protocol P.ini --issuer-key I.key --recipient R.pub\n"
    "                       --serial N [--passphrase-file F] [--force] EXPORT.csv OUT.pfs\n"
    "\n"
    "Check the agency's CSV export against the protocol definition and write a dataset\n"
    "signed with the issuer key and encrypted to the recipient. Nothing is written when\n"
    "any row is refused. --force overwrites an existing OUT.pfs.\n";

static int cli_serial(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '1' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int cmd_seal(int argc, char **argv)
{
	struct seal_args a = {0};
	const char *serial = NULL, *force = NULL, *pos[2];
	const struct cli_opt opts[] = {{"protocol", 1, &a.protocol},
				       {"issuer-key", 1, &a.issuer_key},
				       {"recipient", 1, &a.recipient},
				       {"serial", 1, &serial},
				       {"passphrase-file", 1, &a.passphrase_file},
				       {"force", 0, &force},
				       {0}};
	char err[ERRLEN];
	size_t n = 0;
	int np, rc = cli_parse("seal", argc, argv, opts, pos, 2, 2, &np, seal_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (!a.protocol || !a.issuer_key || !a.recipient || !serial) {
		cli_error("seal",
			  "--protocol, --issuer-key, --recipient and --serial are required");
		return CLI_ERROR;
	}
	if (cli_serial(serial, &a.serial) < 0) {
		cli_error("seal", "--serial: not a positive integer");
		return CLI_ERROR;
	}
	a.csv = pos[0];
	a.out = pos[1];
	a.force = force != NULL;
	rc = seal_run(&a, &n, err, sizeof(err));
	if (rc < 0) {
		cli_error("seal", "%s", err);
		return cli_status(rc);
	}
	printf("sealed %zu record%s into %s (serial %" PRIu64 ")\n", n, n == 1 ? "" : "s", a.out,
	       a.serial);
	return CLI_OK;
}

/* ----------------------------------------------------------------- inspect */

static const char inspect_usage[] =
    "usage: protocolfs inspect [--issuer I.pub] DATASET.pfs\n"
    "\n"
    "Print the dataset's signed header and record counts, and check it whole. Exit 0\n"
    "only when the issuer's signature verifies (which needs --issuer). Never prints\n"
    "personal data.\n";

/* Earliest and latest retention deadline over the present records. */
static void inspect_deadlines(const struct dataset *ds, int32_t *lo, int32_t *hi)
{
	*lo = INT32_MAX;
	*hi = INT32_MIN;
	for (size_t i = 0; i < dataset_count(ds); i++) {
		int32_t d;
		if (!dataset_record_is_present(ds, i))
			continue;
		d = dataset_record_deadline(ds, i);
		*lo = d < *lo ? d : *lo;
		*hi = d > *hi ? d : *hi;
	}
}

/* What is expired at this moment (by this machine's clock) and what comes next. */
static void inspect_now(const struct dataset *ds)
{
	const struct dataset_terms *t = dataset_terms(ds);
	struct expiry *e = NULL;
	char d[CLOCK_DATE_LEN];
	size_t expired = 0, visible;
	int64_t now = clock_now(), next;
	int32_t day;

	if (expiry_new(&e, ds, NULL, 0) < 0)
		return;
	expired = expiry_purgeable(e, now, NULL);
	visible = expiry_scan(e, now, &next);
	printf("now:        %zu visible, %zu expired", visible, expired);
	if (next != INT64_MAX && clock_day_of(t->timezone, next, &day) == 0) {
		clock_format_date(day, d);
		printf(", next disappear at the start of %s", d);
	}
	printf("\n");
	expiry_free(e);
}

static void inspect_print(const char *path, const struct dataset *ds)
{
	const struct dataset_terms *t = dataset_terms(ds);
	char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN], ts[21], ik[17], rk[17];
	int32_t lo, hi;

	keys_id_hex(ik, t->issuer_keyid);
	keys_id_hex(rk, t->recipient_keyid);
	clock_format_utc(t->issued_at, ts);
	printf("dataset:    %s\n", path);
	printf("protocol:   %s\n", t->protocol_id);
	printf("issuer:     %s (key %s)\n", t->issuer, ik);
	printf("recipient:  %s (key %s)\n", t->recipient, rk);
	printf("serial:     %" PRIu64 "\n", t->serial);
	printf("issued:     %s\n", ts);
	clock_format_date(t->start_day, a);
	clock_format_date(t->end_day, b);
	printf("window:     %s to %s inclusive (%s)\n", a, b, t->timezone);
	printf("retention:  %d%c after shared_on\n",
	       t->retention_unit == 'y' ? t->retention_months / 12 : t->retention_months,
	       t->retention_unit);
	printf("fields:    ");
	for (unsigned i = 0; i < t->nfields; i++)
		printf(" %s", t->fields[i]);
	printf("\nrecords:    %zu (%zu present, %zu purged)\n", dataset_count(ds),
	       dataset_present(ds), dataset_count(ds) - dataset_present(ds));
	inspect_deadlines(ds, &lo, &hi);
	if (lo <= hi) {
		clock_format_date(lo, a);
		clock_format_date(hi, b);
		printf("deadlines:  %s (earliest) to %s (latest)\n", a, b);
	} else {
		printf("deadlines:  none (no records present)\n");
	}
	inspect_now(ds);
}

static int cmd_inspect(int argc, char **argv)
{
	const char *issuer = NULL, *pos[1];
	const struct cli_opt opts[] = {{"issuer", 1, &issuer}, {0}};
	struct keys_public pub;
	struct dataset *ds = NULL;
	char err[ERRLEN];
	int n, rc = cli_parse("inspect", argc, argv, opts, pos, 1, 1, &n, inspect_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (issuer && (rc = keys_public_load(&pub, issuer, KEYS_ISSUER, err, sizeof(err))) < 0) {
		cli_error("inspect", "%s", err);
		return cli_status(rc);
	}
	rc = dataset_open(&ds, pos[0], issuer ? &pub : NULL, err, sizeof(err));
	if (rc < 0) {
		if (cli_status(rc) == CLI_BAD)
			printf("signature:  FAILED\n");
		cli_error("inspect", "%s", err);
		return cli_status(rc);
	}
	inspect_print(pos[0], ds);
	printf("signature:  %s\n",
	       issuer ? "verified" : "NOT CHECKED (give --issuer with the agency's public key)");
	dataset_close(ds);
	return issuer ? CLI_OK : CLI_BAD;
}

/* ------------------------------------------------------ profiles, check */

static const char profiles_usage[] =
    "usage: protocolfs profiles CONFIG\n"
    "\n"
    "Print the current list of function profiles with access (Art. 4): each profile,\n"
    "its description, the fields it may see, and its users and groups. CONFIG is\n"
    "validated whole first, dataset included.\n";

static const char check_usage[] =
    "usage: protocolfs check CONFIG\n"
    "\n"
    "Validate the configuration, keys and dataset as the daemon would, then print the\n"
    "function-profile list (Art. 4), the protocol window, the number of records\n"
    "visible now and the next date on which records disappear. Exit 0 when all is\n"
    "well.\n";

static void cli_profiles_print(const struct service *svc)
{
	const struct config *cfg = svc->cfg;
	const struct dataset_terms *t = dataset_terms(svc->ds);

	printf("function profiles (Art. 4):\n");
	for (size_t p = 0; p < cfg->nprofiles; p++) {
		const struct config_profile *pr = &cfg->profiles[p];
		printf("  %s\n", pr->name);
		if (pr->description[0])
			printf("    description: %s\n", pr->description);
		printf("    fields:     ");
		for (unsigned i = 0; i < pr->nfields; i++)
			printf("%s %s", i ? "," : "", t->fields[pr->field[i]]);
		printf("%s\n", pr->nfields ? "" : " (none)");
		printf("    users:       %s\n", pr->users_text[0] ? pr->users_text : "(none)");
		printf("    groups:      %s\n", pr->groups_text[0] ? pr->groups_text : "(none)");
	}
}

static int cli_service_open(const char *cmd, const char *config, struct service **svc)
{
	char err[ERRLEN];
	int rc = service_open(svc, config, err, sizeof(err));

	if (rc < 0)
		cli_error(cmd, "%s", err);
	return rc;
}

/* A command that takes CONFIG, loads it as the daemon would, and prints. */
static int cli_config_command(const char *cmd, int argc, char **argv, const char *usage,
			      void (*print)(struct service *svc))
{
	struct service *svc = NULL;
	const char *pos[1];
	int n, rc = cli_parse(cmd, argc, argv, NULL, pos, 1, 1, &n, usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	rc = cli_service_open(cmd, pos[0], &svc);
	if (rc < 0)
		return cli_status(rc);
	print(svc);
	service_close(svc);
	return CLI_OK;
}

static void cli_profiles_only(struct service *svc)
{
	cli_profiles_print(svc);
}

static int cmd_profiles(int argc, char **argv)
{
	return cli_config_command("profiles", argc, argv, profiles_usage, cli_profiles_only);
}

static void cli_notice_quiet(void *arg, const char *file, int rc, int64_t at, const char *msg)
{
	(void)arg, (void)file, (void)rc, (void)at, (void)msg;
}

/* Now, never earlier than the daemon's persisted high-water mark of time. */
static int64_t cli_now(const struct service *svc)
{
	int64_t now = clock_now(), mark = clock_mark_peek(svc->cfg->state_dir);

	return now > mark ? now : mark;
}

/* Apply the termination notices in the config's notices folder to svc. */
static void cli_notice_report(void *arg, const char *file, int rc, int64_t at, const char *msg)
{
	char when[21];

	if (rc == 0) {
		clock_format_utc(at, when);
		printf("notice:     %s: the protocol ends at %s\n", file, when);
	} else {
		printf("notice:     %s: REFUSED: %s\n", file, msg);
	}
	(void)arg;
}

static void cli_notices(struct service *svc, bool print)
{
	struct service_seen *seen = calloc(1, sizeof(*seen));

	/* seen->record stays false: check reports, it records no termination */
	if (seen) {
		service_notices(svc, seen, print ? cli_notice_report : cli_notice_quiet, NULL);
		service_seen_free(seen);
	}
	free(seen);
}

/* "in force", "not yet in force" or "ended" at now. */
static const char *cli_window_state(const struct expiry *e, int64_t now)
{
	if (now < expiry_window_start(e))
		return "not yet in force";
	if (now >= expiry_termination(e))
		return "terminated by notice";
	return now < expiry_window_end(e) ? "in force" : "ended";
}

static void cli_check_print(struct service *svc)
{
	const struct dataset_terms *t = dataset_terms(svc->ds);
	char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN];
	int64_t now, next;
	size_t visible;
	int32_t day;

	cli_notices(svc, true);
	now = cli_now(svc);
	visible = expiry_scan(svc->exp, now, &next);

	clock_format_date(t->start_day, a);
	clock_format_date(t->end_day, b);
	printf("config:     %s\n", svc->cfg->path);
	printf("dataset:    %s (serial %" PRIu64 ", %zu records, signature verified)\n",
	       svc->cfg->dataset, t->serial, dataset_present(svc->ds));
	printf("protocol:   %s, %s to %s\n", t->protocol_id, t->issuer, t->recipient);
	printf("window:     %s to %s inclusive (%s): %s\n", a, b, t->timezone,
	       cli_window_state(svc->exp, now));
	printf("visible:    %zu records now (%zu expired, %zu purged)\n", visible,
	       expiry_purgeable(svc->exp, now, NULL),
	       dataset_count(svc->ds) - dataset_present(svc->ds));
	if (next == INT64_MAX) {
		printf("next:       no record is due to disappear\n");
	} else {
		clock_day_of(t->timezone, next, &day);
		clock_format_date(day, a);
		printf("next:       %s (records disappear at the start of this day)\n", a);
	}
	printf("\n");
	cli_profiles_print(svc);
}

static int cmd_check(int argc, char **argv)
{
	return cli_config_command("check", argc, argv, check_usage, cli_check_print);
}

/* ------------------------------------------------------------------- mount */

static const char mount_usage[] =
    "usage: protocolfs mount CONFIG MOUNTPOINT [-f] [-o OPTIONS]\n"
    "       protocolfs CONFIG MOUNTPOINT [-o OPTIONS]     (the form mount.fuse3 uses)\n"
    "\n"
    "Verify everything, then mount the dataset read-only at MOUNTPOINT: one file per\n"
    "person, with the fields of the caller's function profile. Errors are reported\n"
    "before the daemon goes to the background; -f stays in the foreground. OPTIONS\n"
    "are FUSE mount options, e.g. allow_other. The mount is always\n"
    "ro,nosuid,nodev,noexec. Unmount with fusermount3 -u MOUNTPOINT, umount, or\n"
    "SIGTERM/SIGINT.\n";

/* Mounted: a background daemon tells its parent and leaves the terminal. */
static void cli_ready(void *arg)
{
	int *fd = arg, null;

	if (*fd < 0)
		return;
	if (write(*fd, "", 1) != 1) {
		/* the parent is gone; nothing to report to */
	}
	close(*fd);
	*fd = -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (chdir("/") != 0) {
		/* not fatal: every path in the config is absolute */
	}
}

/* Load, verify and serve; errors go to report_fd (daemon start-up) or stderr. */
static int cli_mount_run(const char *config, const char *mnt, const char *opts, int report_fd)
{
	char abs[PATH_MAX];
	struct fs_mount_opts o = {realpath(mnt, abs) ? abs : mnt, opts, cli_ready, &report_fd};
	struct service *svc = NULL;
	char err[ERRLEN];
	int rc = service_open(&svc, config, err, sizeof(err));

	if (rc == 0)
		rc = fs_serve(svc, &o, err, sizeof(err));
	if (rc < 0 && report_fd >= 0) {
		if (write(report_fd, err, strlen(err)) < 0) {
			/* nothing more can be done */
		}
	} else if (rc < 0) {
		cli_error("mount", "%s", err);
	}
	return rc < 0 ? cli_status(rc) : CLI_OK;
}

/* Start the daemon in a child that loads everything itself (so its key memory
 * stays locked) and reports through a pipe: "" ready, text an error. */
static int cli_mount_background(const char *config, const char *mnt, const char *opts)
{
	char msg[ERRLEN];
	int p[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		cli_error("mount", "cannot start the daemon: %s", strerror(errno));
		return CLI_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		/* A daemon keeps none of its starter's descriptors but the report pipe. */
		if (p[1] > 3)
			close_range(3, (unsigned)p[1] - 1, 0);
		close_range((unsigned)p[1] + 1, ~0U, 0);
		setsid();
		_exit(cli_mount_run(config, mnt, opts, p[1]));
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	if (n == 1 && msg[0] == 0)
		return CLI_OK;
	waitpid(pid, &status, 0);
	msg[n > 0 ? n : 0] = 0;
	cli_error("mount", "%s", n > 0 ? msg : "the daemon exited before mounting");
	return WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : CLI_ERROR;
}

static int cmd_mount(int argc, char **argv)
{
	const char *fg = NULL, *opts = NULL, *pos[2];
	const struct cli_opt o[] = {{"f", 0, &fg}, {"o", 1, &opts}, {0}};
	int n, rc = cli_parse("mount", argc, argv, o, pos, 2, 2, &n, mount_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (fg)
		return cli_mount_run(pos[0], pos[1], opts, -1);
	return cli_mount_background(pos[0], pos[1], opts);
}

/* ------------------------------------------------------------------- audit */

static const char audit_usage[] =
    "usage: protocolfs audit verify --key KEY [--state STATE] LOG...\n"
    "       protocolfs audit report [--record ID] [--user NAME] [--since DATE]\n"
    "                               [--until DATE] [--format text|csv|json] LOG...\n"
    "       protocolfs audit anomalies [--bulk N] [--denials N] LOG...\n"
    "\n"
    "LOG... are the audit log files in order, oldest first (a rotated series).\n"
    "verify     check the hash chain and every line's MAC from the initial key that\n"
    "           the daemon wrote to [audit] verify_key; with --state (the daemon's\n"
    "           state_dir/audit.state) also that no line was cut from the end.\n"
    "           Prints \"N lines verified\"; exit 1 naming the first bad file and line.\n"
    "report     who opened a person's file (--record), what a user opened (--user),\n"
    "           over a period (UTC dates, inclusive). Lines refused after a failed\n"
    "           flush show as denied.\n"
    "anomalies  bulk reads (more than --bulk opens by one user in 10 minutes,\n"
    "           default 50), bursts of denials (more than --denials in 1 minute,\n"
    "           default 10), access without a profile, rate-limit alerts, gaps and\n"
    "           log failures, each with the 48-hour deadline to report to the issuer.\n"
    "           Exit 1 when any is found.\n";

#define AUDIT_MAX_FILES 1024

static int cmd_audit_verify(int argc, char **argv)
{
	const char *key = NULL, *state = NULL, *pos[AUDIT_MAX_FILES];
	const struct cli_opt opts[] = {{"key", 1, &key}, {"state", 1, &state}, {0}};
	char err[ERRLEN];
	uint64_t lines = 0;
	int n, rc = cli_parse("audit verify", argc, argv, opts, pos, 1, AUDIT_MAX_FILES, &n,
			      audit_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (!key) {
		cli_error("audit verify", "--key is required (the initial verification key)");
		return CLI_ERROR;
	}
	rc = report_verify(pos, (size_t)n, key, state, &lines, err, sizeof(err));
	if (rc < 0) {
		cli_error("audit verify", "%s", err);
		return cli_status(rc);
	}
	printf("%llu lines verified\n", (unsigned long long)lines);
	return CLI_OK;
}

static int cli_date_arg(const char *cmd, const char *name, const char *v)
{
	int32_t d;

	if (v && clock_parse_date(v, &d) < 0) {
		cli_error(cmd, "--%s: not a date (YYYY-MM-DD)", name);
		return -1;
	}
	return 0;
}

static int cmd_audit_report(int argc, char **argv)
{
	struct report_query q = {0};
	const char *format = NULL, *pos[AUDIT_MAX_FILES];
	const struct cli_opt opts[] = {{"record", 1, &q.record}, {"user", 1, &q.user},
				       {"since", 1, &q.since},	 {"until", 1, &q.until},
				       {"format", 1, &format},	 {0}};
	char err[ERRLEN];
	size_t matched;
	int n, rc = cli_parse("audit report", argc, argv, opts, pos, 1, AUDIT_MAX_FILES, &n,
			      audit_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (cli_date_arg("audit report", "since", q.since) < 0 ||
	    cli_date_arg("audit report", "until", q.until) < 0)
		return CLI_ERROR;
	if (!format || strcmp(format, "text") == 0) {
		q.format = REPORT_TEXT;
	} else if (strcmp(format, "csv") == 0) {
		q.format = REPORT_CSV;
	} else if (strcmp(format, "json") == 0) {
		q.format = REPORT_JSON;
	} else {
		cli_error("audit report", "--format must be text, csv or json");
		return CLI_ERROR;
	}
	rc = report_query(pos, (size_t)n, &q, stdout, &matched, err, sizeof(err));
	if (rc < 0) {
		cli_error("audit report", "%s", err);
		return cli_status(rc);
	}
	return CLI_OK;
}

static int cli_count_arg(const char *cmd, const char *name, const char *v, unsigned *out)
{
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || n > 1000000) {
		cli_error(cmd, "--%s: not a number from 0 to 1000000", name);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int cmd_audit_anomalies(int argc, char **argv)
{
	struct report_limits lim = {.bulk = 50, .denials = 10};
	const char *bulk = NULL, *den = NULL, *pos[AUDIT_MAX_FILES];
	const struct cli_opt opts[] = {{"bulk", 1, &bulk}, {"denials", 1, &den}, {0}};
	char err[ERRLEN];
	size_t found;
	int n, rc = cli_parse("audit anomalies", argc, argv, opts, pos, 1, AUDIT_MAX_FILES, &n,
			      audit_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (cli_count_arg("audit anomalies", "bulk", bulk, &lim.bulk) < 0 ||
	    cli_count_arg("audit anomalies", "denials", den, &lim.denials) < 0)
		return CLI_ERROR;
	rc = report_anomalies(pos, (size_t)n, &lim, stdout, &found, err, sizeof(err));
	if (rc < 0) {
		cli_error("audit anomalies", "%s", err);
		return cli_status(rc);
	}
	if (!found)
		printf("no anomalies\n");
	return found ? CLI_BAD : CLI_OK;
}

static int cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_audit_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return cmd_audit_report(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "anomalies") == 0)
		return cmd_audit_anomalies(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(audit_usage, stdout);
		return CLI_OK;
	}
	cli_error("audit", "expected verify, report or anomalies (see protocolfs audit --help)");
	return CLI_ERROR;
}

/* --------------------------------------------------------- terminate, purge */

static const char terminate_usage[] =
    "usage: protocolfs terminate --issuer-key I.key [--passphrase-file F] --protocol ID\n"
    "                            --at DATE [--force] OUT.notice\n"
    "\n"
    "Write a termination notice signed with the issuer's key (Art. 8, 12): from the start\n"
    "of DATE (the protocol's time zone) nothing of protocol ID may be shown. Placed in\n"
    "the city's notices folder (state_dir/notices/ by default) it takes effect without a\n"
    "restart; a notice for another protocol or not signed by the issuer is refused.\n";

static int cmd_terminate(int argc, char **argv)
{
	const char *key = NULL, *pass = NULL, *proto = NULL, *at = NULL, *force = NULL, *pos[1];
	const struct cli_opt opts[] = {{"issuer-key", 1, &key}, {"passphrase-file", 1, &pass},
				       {"protocol", 1, &proto}, {"at", 1, &at},
				       {"force", 0, &force},	{0}};
	struct keys_secret iss = {0};
	char err[ERRLEN];
	int32_t day;
	int n, rc = cli_parse("terminate", argc, argv, opts, pos, 1, 1, &n, terminate_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	if (!key || !proto || !at) {
		cli_error("terminate", "--issuer-key, --protocol and --at are required");
		return CLI_ERROR;
	}
	if (clock_parse_date(at, &day) < 0) {
		cli_error("terminate", "--at: not a date (YYYY-MM-DD)");
		return CLI_ERROR;
	}
	rc = keys_secret_load(&iss, key, KEYS_ISSUER, pass, err, sizeof(err));
	if (rc == 0)
		rc = notice_write(&iss, proto, day, pos[0], force != NULL, err, sizeof(err));
	keys_secret_free(&iss);
	if (rc < 0) {
		cli_error("terminate", "%s", err);
		return cli_status(rc);
	}
	printf("wrote %s: protocol %s ends at the start of %s\n", pos[0], proto, at);
	return CLI_OK;
}

static const char purge_usage[] =
    "usage: protocolfs purge CONFIG\n"
    "\n"
    "Rewrite the configured dataset without the records that may no longer be kept\n"
    "(retention deadline, protocol end or termination passed). The result still\n"
    "verifies under the issuer's signature and replaces the file atomically; a running\n"
    "daemon reloads it and logs the purge.\n";

/* Log the purge; when the daemon runs (it holds the log) it logs the purge
 * itself as it reloads the rewritten file. */
static void cli_purge_log(const struct service *svc, size_t n)
{
	struct audit_opts o;
	char detail[200], err[ERRLEN];
	struct audit_event ev = {.event = "purge", .result = "allowed", .detail = detail};
	struct audit *a = NULL;
	int rc;

	service_audit_opts(svc->cfg, &o);
	rc = audit_open(&a, &o, err, sizeof(err));
	snprintf(detail, sizeof(detail),
		 "%zu expired records cut from the dataset at rest "
		 "(protocolfs purge)",
		 n);
	if (rc == 0)
		rc = audit_append(a, &ev);
	audit_close(a);
	if (rc == -EBUSY)
		printf("the running daemon reloads the dataset and logs the purge\n");
	else if (rc < 0)
		cli_error("purge", "audit log: %s", err);
}

static int cmd_purge(int argc, char **argv)
{
	struct service *svc = NULL;
	const char *pos[1];
	uint8_t *drop = NULL;
	char err[ERRLEN];
	size_t expired = 0;
	int64_t now;
	int n, rc = cli_parse("purge", argc, argv, NULL, pos, 1, 1, &n, purge_usage);

	if (rc)
		return rc > 0 ? CLI_OK : CLI_ERROR;
	rc = cli_service_open("purge", pos[0], &svc);
	if (rc < 0)
		return cli_status(rc);
	cli_notices(svc, false);
	now = cli_now(svc);
	drop = calloc(dataset_count(svc->ds) + 1, 1);
	if (drop)
		expired = expiry_purgeable(svc->exp, now, drop);
	rc = !drop     ? -ENOMEM
	     : expired ? dataset_purge_write(svc->ds, drop, svc->cfg->dataset, err, sizeof(err))
		       : 0;
	if (rc == 0 && expired)
		cli_purge_log(svc, expired);
	if (rc < 0)
		cli_error("purge", "%s", rc == -ENOMEM && !drop ? "out of memory" : err);
	else
		printf("purged %zu expired record%s from %s (%zu remain)\n", expired,
		       expired == 1 ? "" : "s", svc->cfg->dataset,
		       dataset_present(svc->ds) - expired);
	free(drop);
	service_close(svc);
	return rc < 0 ? cli_status(rc) : CLI_OK;
}

/* -------------------------------------------------------------------- main */

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct cli_command commands[] = {
    {"keygen", cmd_keygen, "make an issuer (agency) or recipient (city) key pair"},
    {"seal", cmd_seal, "seal the agency's CSV export into a signed, encrypted dataset"},
    {"inspect", cmd_inspect, "print a dataset's signed header and verify it"},
    {"check", cmd_check, "validate a config, its keys and dataset; print profiles and dates"},
    {"profiles", cmd_profiles, "print the function profiles with access (Art. 4)"},
    {"mount", cmd_mount, "serve the dataset as a read-only filesystem"},
    {"audit", cmd_audit, "verify the audit log, report on it, list anomalies"},
    {"terminate", cmd_terminate, "write the issuer's signed termination notice"},
    {"purge", cmd_purge, "cut expired records out of the dataset at rest"},
    {NULL, NULL, NULL},
};

static void cli_usage(FILE *f)
{
	fputs("usage: protocolfs COMMAND [ARGS]   (protocolfs COMMAND --help for details)\n\n"
	      "protocolfs serves personal records shared under a GDPR data-sharing protocol.\n\n"
	      "commands:\n",
	      f);
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
}

/* No core dumps and no ptrace by others: a dump would hold keys and records. */
static void cli_harden(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	cli_harden();
	if (argc < 2) {
		cli_usage(stderr);
		return CLI_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0 && argc == 2) {
		printf("protocolfs %s\n", PFS_VERSION);
		return CLI_OK;
	}
	if (sodium_init() < 0) {
		cli_error(argv[1], "libsodium failed to initialise");
		return CLI_ERROR;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	/* mount.fuse3 (fstab, mount -t fuse.protocolfs) runs "protocolfs CONFIG MNT -o ..." */
	if (argc >= 3 && access(argv[1], F_OK) == 0)
		return cmd_mount(argc, argv);
	fprintf(stderr, "protocolfs: unknown command \"%s\" (see protocolfs --help)\n", argv[1]);
	return CLI_ERROR;
}
