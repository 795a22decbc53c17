/* dataset.h — the sealed dataset (.pfs): writer (issuer side) and reader
 * (recipient side). It knows nothing of CSV, INI or FUSE.
 *
 * Properties (DESIGN.md "Sealed dataset"; byte layout in README.md, "Dataset format",
 * format 2):
 *  - nothing identifiable at rest: each record is one ciphertext unit (its own
 *    random nonce; the id, zero-padded to 64 bytes, under ChaCha20-Poly1305 (IETF,
 *    the nonce's first 12 bytes), and the values, padded to a multiple of 32
 *    bytes, under XChaCha20-Poly1305, each with a key derived from a random file
 *    key sealed to the recipient's X25519 key); the records are in a
 *    random order; the manifest holds per record only shared_on and a commitment
 *    (BLAKE2b-256 of the unit), never an id or anything computed from one alone;
 *  - authentic: one Ed25519 signature covers the header, which holds the BLAKE2b
 *    digest of the manifest, which holds every record's commitment, so the
 *    issuer's key verifies the whole file without the recipient's key;
 *  - purgeable: a record's unit can be cut out; its commitment stays, so the rest
 *    still verifies, and no key recovers the purged person's id or values;
 *  - indexable: shared_on dates and deadlines are read from the manifest without
 *    decrypting; dataset_unlock decrypts every id once into sodium_malloc'ed
 *    memory (a hash index); one record is decrypted on demand into
 *    sodium_malloc'ed memory that dataset_record_wipe wipes.
 *
 * Record indices (0-based) are positions in the file, stable across a purge.
 * A struct dataset is immutable after dataset_open and dataset_unlock and may be
 * shared by threads; a struct dataset_record belongs to one thread. */
#ifndef PFS_DATASET_H
#define PFS_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define DATASET_ID_MAX	       64
#define DATASET_FIELDS_MAX     32
#define DATASET_FIELD_NAME_MAX 32
#define DATASET_STR_MAX	       255
#define DATASET_VALUE_MAX      65535
#define DATASET_RECORDS_MAX    16000000u

/* The signed terms of the protocol, as the header carries them. */
struct dataset_terms {
	char protocol_id[DATASET_STR_MAX + 1];
	char issuer[DATASET_STR_MAX + 1];
	char recipient[DATASET_STR_MAX + 1];
	char timezone[DATASET_STR_MAX + 1];
	uint64_t serial;
	int64_t issued_at; /* seconds since the epoch, UTC */
	int32_t start_day; /* civil dates, see clock.h */
	int32_t end_day;   /* inclusive: the protocol ends at the end of this day */
	int retention_months;
	char retention_unit; /* 'y' or 'm', how the protocol wrote it */
	unsigned nfields;    /* the record fields, in order (not id or shared_on) */
	char fields[DATASET_FIELDS_MAX][DATASET_FIELD_NAME_MAX + 1];
	uint8_t issuer_keyid[KEYS_ID_BYTES];
	uint8_t recipient_keyid[KEYS_ID_BYTES];
	uint8_t uuid[16];
};

/* 0 when id matches [A-Za-z0-9._-]{1,64} and does not begin with '.' (a file name
 * starting with a dot would be hidden from ls). */
int dataset_id_check(const char *id, size_t len);

/* ---- writer (issuer) ---- */
struct dataset_writer;

/* Start a dataset with terms t (uuid and the key ids are filled in here; serial,
 * issued_at and the rest are the caller's), encrypted to recipient, to be written
 * to path by dataset_writer_finish. Records are encrypted as they are added and
 * streamed to an unlinked temporary file in path's folder (ciphertext only);
 * failing to create it gives "PATH: cannot create temporary file: ...". */
int dataset_writer_new(struct dataset_writer **w, const struct dataset_terms *t,
		       const struct keys_public *recipient, const char *path, char *err,
		       size_t errlen);

/* How much ciphertext the writer may hold in memory before it spills to its
 * temporary file (default 128 MiB; 0 spills everything, for tests). */
void dataset_writer_set_budget(struct dataset_writer *w, size_t bytes);

/* Add one record: values[i] of lens[i] bytes for t->fields[i]. The id must pass
 * dataset_id_check. Returns 0 or a negative errno. A repeated id is not an error
 * here: dataset_writer_finish reports the first one. */
int dataset_writer_add(struct dataset_writer *w, const char *id, size_t idlen, int32_t shared_on,
		       const char *const *values, const size_t *lens, char *err, size_t errlen);

/* Shuffle, sign with issuer, write to the path given to dataset_writer_new (temp
 * file, fsync, verify the result against the issuer's public key, rename, fsync
 * the folder). A duplicate id gives -EEXIST with *dup set to the add-order index
 * (0-based) of the first repeat in add order and *dup_first to the record it
 * repeats. Nothing is written on error. Call it at most once. */
int dataset_writer_finish(struct dataset_writer *w, const struct keys_secret *issuer,
			  bool overwrite, size_t *dup_first, size_t *dup, char *err, size_t errlen);

/* Wipes and frees; NULL is fine. */
void dataset_writer_free(struct dataset_writer *w);

/* ---- reader (recipient) ---- */
struct dataset;

/* Read and check the whole file: structure, issuer key id, signature, manifest
 * and every record's commitment (no recipient key needed). With issuer NULL the
 * signature is not checked (inspect without a key) and dataset_signature_checked
 * says so. A format 1 file is refused (-EPROTONOSUPPORT) with a message naming
 * the format. Nothing partial: on any error *ds is NULL and err says what failed
 * and where. */
int dataset_open(struct dataset **ds, const char *path, const struct keys_public *issuer, char *err,
		 size_t errlen);

bool dataset_signature_checked(const struct dataset *ds);

/* Open the file key with the recipient's secret key and build the id index:
 * every present record's id is decrypted once into sodium_malloc'ed memory and
 * checked (syntax, uniqueness; a failure names the record index). A key that is
 * not the one the dataset was sealed for is reported by key id before any
 * decryption. On error the dataset is left locked. */
int dataset_unlock(struct dataset *ds, const struct keys_secret *recipient, char *err,
		   size_t errlen);

const struct dataset_terms *dataset_terms(const struct dataset *ds);
size_t dataset_count(const struct dataset *ds);	  /* records in the manifest */
size_t dataset_present(const struct dataset *ds); /* of which not purged */
bool dataset_record_is_present(const struct dataset *ds, size_t i);
/* The record's id (not NUL-terminated) and its length; "" and 0 before
 * dataset_unlock and for a purged record (its id is gone from the file). */
const char *dataset_record_id(const struct dataset *ds, size_t i, size_t *len);
int32_t dataset_record_shared_on(const struct dataset *ds, size_t i);
/* First civil day on which the record may no longer be kept: shared_on + retention. */
int32_t dataset_record_deadline(const struct dataset *ds, size_t i);
/* Index of the present record with this id, or -1 (also before dataset_unlock).
 * A hash lookup in the index dataset_unlock built. */
long dataset_find(const struct dataset *ds, const char *id, size_t len);

/* A decrypted record. The buffer is sodium_malloc'ed and reused across calls on
 * the same struct (one per thread); values point into it. */
struct dataset_record {
	uint8_t *buf;
	size_t cap;
	size_t len;
	unsigned nfields;
	const char *value[DATASET_FIELDS_MAX];
	size_t vlen[DATASET_FIELDS_MAX];
};

/* Decrypt record i into rec. -ENOENT for a purged record, -EBADMSG if it fails to
 * authenticate. The plaintext stays in rec until dataset_record_wipe. */
int dataset_record_open(const struct dataset *ds, size_t i, struct dataset_record *rec, char *err,
			size_t errlen);
/* Wipe the plaintext, keep the buffer for reuse. */
void dataset_record_wipe(struct dataset_record *rec);
/* Wipe and free the buffer. */
void dataset_record_free(struct dataset_record *rec);

/* Write a copy of the dataset without the units (nonce, id, values) of records
 * whose drop[i] is nonzero; their commitments stay (all-or-nothing, verified
 * before it is renamed into place). The signature is unchanged and still
 * verifies. */
int dataset_purge_write(const struct dataset *ds, const uint8_t *drop, const char *path, char *err,
			size_t errlen);

/* Wipes the keys and the index and frees; NULL is fine. */
void dataset_close(struct dataset *ds);

#endif
