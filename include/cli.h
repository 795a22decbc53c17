/* cli.h — the protocolfs command line: one binary, subcommands from one table.
 * Only the CLI prints and exits. Exit status: 0 ok; 1 checked and found bad (a
 * broken signature, a tampered file); 2 usage, configuration or I/O error. */
#ifndef PFS_CLI_H
#define PFS_CLI_H

#define CLI_OK	  0
#define CLI_BAD	  1
#define CLI_ERROR 2

/* One option of a subcommand: long name, whether it takes a value, and where the
 * value goes (a flag gets "1"). */
struct cli_opt {
	const char *name;
	int has_arg;
	const char **value;
};

/* Parse argv (argv[0] is the subcommand) against opts; positional arguments are
 * returned in pos (at most maxpos). Prints a one-line error naming the problem
 * (unknown option, given twice, missing value, wrong count) and returns -1;
 * returns 1 when --help was printed; 0 otherwise. */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts, const char **pos,
	      int minpos, int maxpos, int *npos, const char *usage);

/* "protocolfs: CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exit status for a negative errno from a module. */
int cli_status(int rc);

#endif
