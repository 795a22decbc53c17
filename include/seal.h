/* seal.h — the issuer's side: the protocol definition (INI) and the agency's CSV
 * export, checked and mapped into the dataset writer. The daemon never links it.
 *
 * Enforces Art. 3 (data minimisation): a column the protocol does not list is
 * refused; Art. 2 / 5: every record's shared_on date lies in the protocol window. */
#ifndef PFS_SEAL_H
#define PFS_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* The protocol definition: signed terms plus, per field, its CSV column header.
 * field_id/column: the record fields in file order; id_column and shared_column
 * name the structural columns (shared_column "" when the protocol has none). */
struct seal_protocol {
	struct dataset_terms terms;
	char columns[DATASET_FIELDS_MAX][DATASET_STR_MAX + 1];
	char id_column[DATASET_STR_MAX + 1];
	char shared_column[DATASET_STR_MAX + 1];
};

/* Load and validate a protocol definition; errors name file, section and key. */
int seal_protocol_load(struct seal_protocol *p, const char *path, char *err, size_t errlen);

struct seal_args {
	const char *protocol;	     /* protocol INI */
	const char *issuer_key;	     /* issuer secret key file */
	const char *passphrase_file; /* may be NULL */
	const char *recipient;	     /* recipient public key file */
	const char *csv;	     /* the export */
	const char *out;	     /* the dataset to write */
	uint64_t serial;
	bool force;
};

/* Seal a CSV export into a dataset. On success *nrecords is the record count.
 * On any error nothing is written and err names file, line and column. */
int seal_run(const struct seal_args *a, size_t *nrecords, char *err, size_t errlen);

#endif
