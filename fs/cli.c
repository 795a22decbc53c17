/* cli.c — main and the subcommand table. Each cmd_* parses its arguments, calls
 * one module function, and reports; no protocol decision is made here. */
#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "keys.h"
#include "seal.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>

#include <sodium.h>

#define ERRLEN 1024

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
				cli_error(cmd, "unexpected argument (see protocolfs %s --help)", cmd);
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
		eq = strchr(a, '=');
		k = a[1] == '-' ? cli_opt_find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2))
				: -1;
		if (k < 0) {
			cli_error(cmd, "unknown option %s (see protocolfs %s --help)", a, cmd);
			return -1;
		}
		if (seen & (1u << k)) {
			cli_error(cmd, "option --%s given twice", opts[k].name);
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
		cli_error("seal", "--protocol, --issuer-key, --recipient and --serial are required");
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
	printf("sealed %zu records into %s (serial %" PRIu64 ")\n", n, a.out, a.serial);
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
	if (sodium_init() < 0) {
		cli_error(argv[1], "libsodium failed to initialise");
		return CLI_ERROR;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "protocolfs: unknown command \"%s\" (see protocolfs --help)\n", argv[1]);
	return CLI_ERROR;
}
