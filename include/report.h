/* report.h — reading the audit log for the DPO: verification of the chain and
 * MACs, reports per person or per user (Art. 6: demonstrate on request; Art. 15
 * access requests), and anomalies with their 48-hour reporting deadline (Art. 6,
 * 9). Works on the files given, in order (a rotated series continues the chain).
 * Output goes to the FILE* the caller gives; errors to the message buffer. */
#ifndef PFS_REPORT_H
#define PFS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Verify files[0..n) from the initial key in key_path; with state_path, also check
 * that the log ends exactly where the daemon's state says (no lines cut from the
 * end). 0 with *lines set; -EBADMSG with err naming the first bad file and line;
 * another negative errno for I/O problems. */
int report_verify(const char *const *files, size_t n, const char *key_path, const char *state_path,
		  uint64_t *lines, char *err, size_t errlen);

enum report_format { REPORT_TEXT, REPORT_CSV, REPORT_JSON };

struct report_query {
	const char *record; /* NULL: any */
	const char *user;   /* NULL: any */
	const char *since;  /* YYYY-MM-DD (UTC, inclusive) or NULL */
	const char *until;  /* YYYY-MM-DD (UTC, inclusive) or NULL */
	enum report_format format;
};

/* Every line with a caller that matches q, oldest first. Lines refused after a
 * failed flush are shown as denied. *matched counts them. */
int report_query(const char *const *files, size_t n, const struct report_query *q, FILE *out,
		 size_t *matched, char *err, size_t errlen);

struct report_limits {
	unsigned bulk;	  /* allowed opens of one user in 10 minutes */
	unsigned denials; /* denials of one user in 1 minute */
};

/* Bulk reads, bursts of denials, access without a profile, rate-limit alerts,
 * gaps and chain breaks, failed flushes: one line each with the moment the
 * 48-hour deadline to report to the issuer falls. *found counts them. */
int report_anomalies(const char *const *files, size_t n, const struct report_limits *lim, FILE *out,
		     size_t *found, char *err, size_t errlen);

#endif
