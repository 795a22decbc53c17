/* dataset.c — the sealed dataset, format 2: writer and reader (contract in
 * dataset.h, byte layout in README.md, "Dataset format").
 *
 * Nothing identifiable at rest (issue 10, Art. 2): ids and values exist only
 * inside per-record ciphertext units; the manifest holds per record its shared_on
 * day and a commitment (BLAKE2b-256 of the unit). A purge deletes the unit and
 * keeps the commitment, so the signature stays valid and nothing of the person
 * remains, even for the recipient.
 *
 * Verification order is chosen so that each failure has its own message: magic
 * (format 1 named), header syntax, the issuer key id (wrong key), the signature
 * (tampered header), the manifest digest, the flags, the units' lengths and the
 * exact file size, then each unit's commitment. dataset_unlock then decrypts every
 * id once (syntax, uniqueness) into the sodium_malloc'ed index. */
#include "dataset.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DS_MAGIC       "PFSDATA2"
#define DS_MAGIC_V1    "PFSDATA1"
#define DS_SIG_CONTEXT "protocolfs dataset signature v2"
#define DS_KDF_CONTEXT "pfsdata2" /* subkey 1: ids, subkey 2: bodies */
#define DS_VERSION     2
#define DS_SUITE       1 /* Ed25519, X25519 sealed box, XChaCha20- and ChaCha20-Poly1305, BLAKE2b */
#define DS_HDR_FIXED   180
#define DS_HDR_MAX     65536
#define DS_ENTRY       36 /* i32 shared_on, commitment[32] */
#define DS_NONCE       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define DS_TAG	       crypto_aead_xchacha20poly1305_ietf_ABYTES
#define DS_SEALED      (32 + crypto_box_SEALBYTES)
#define DS_PAD	       32 /* body plaintext padded to a multiple of this */
#define DS_PLAIN_MAX   (DATASET_FIELDS_MAX * (2 + DATASET_VALUE_MAX) + DS_PAD)
/* A unit: u32 length of what follows, nonce, id ciphertext, body ciphertext. */
#define U_NONCE	    4
#define U_ID	    (U_NONCE + DS_NONCE)
#define DS_ID_CT    (DATASET_ID_MAX + DS_TAG)
#define U_BODY	    (U_ID + DS_ID_CT)
#define DS_UNIT_MIN (U_BODY + DS_TAG)
#define DS_UNIT_MAX (U_BODY + DS_PLAIN_MAX + DS_TAG)
#define DS_AD_MAX   (16 + 8 + DATASET_ID_MAX)
#define DS_FILE_MAX ((size_t)64 << 30)

struct dataset {
	struct dataset_terms t;
	uint8_t *buf; /* the whole file (ciphertext only) */
	size_t len;
	size_t hdr_off, hdr_len;
	const uint8_t *manifest;
	const uint8_t *flags;
	uint64_t *unit_off; /* per record; UINT64_MAX when purged */
	size_t n, npresent;
	bool signed_ok;
	struct keys_public issuer;
	/* After dataset_unlock, all sodium_malloc'ed: the id and body keys and the
	 * index: ids back to back in record order (id_off[i]..id_off[i+1]; empty for
	 * a purged record) and an open-addressing table of record index + 1 under a
	 * keyed SipHash (random per open, so neither slot order nor timing says
	 * anything about the ids). */
	uint8_t *keys; /* id key[32] || body key[32] || hash key[16] */
	char *ids;
	uint32_t *id_off;
	uint32_t *slots;
	size_t nslots; /* 1.5 x the present records: at most two thirds full */
};

int dataset_id_check(const char *id, size_t len)
{
	if (len < 1 || len > DATASET_ID_MAX || id[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

/* Associated data: uuid || serial, then the id for a body (binding it to its own
 * id) and nothing more for an id. */
static size_t ds_ad(uint8_t ad[DS_AD_MAX], const struct dataset_terms *t, const char *id,
		    size_t idlen)
{
	memcpy(ad, t->uuid, 16);
	util_store_le64(ad + 16, t->serial);
	if (idlen)
		memcpy(ad + 24, id, idlen);
	return 24 + idlen;
}

/* The id and body keys from the file key (keys has 64 bytes). */
static void ds_subkeys(uint8_t *keys, const uint8_t file_key[32])
{
	crypto_kdf_derive_from_key(keys, 32, 1, DS_KDF_CONTEXT, file_key);
	crypto_kdf_derive_from_key(keys + 32, 32, 2, DS_KDF_CONTEXT, file_key);
}
/* ---------------------------------------------------------------- header */

static int ds_put_str(uint8_t *h, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (n > DATASET_STR_MAX)
		return -EINVAL;
	h[(*off)++] = (uint8_t)n;
	memcpy(h + *off, s, n);
	*off += n;
	return 0;
}

/* Serialise the signed header; h has DS_HDR_MAX bytes. */
static size_t ds_header_build(uint8_t *h, const struct dataset_terms *t, size_t n,
			      const uint8_t mdigest[32], const uint8_t sealed[DS_SEALED])
{
	size_t off = DS_HDR_FIXED;

	util_store_le16(h, DS_VERSION);
	util_store_le16(h + 2, DS_SUITE);
	memcpy(h + 4, t->issuer_keyid, 8);
	memcpy(h + 12, t->recipient_keyid, 8);
	memcpy(h + 20, t->uuid, 16);
	util_store_le64(h + 36, t->serial);
	util_store_le64(h + 44, (uint64_t)t->issued_at);
	util_store_le32(h + 52, (uint32_t)t->start_day);
	util_store_le32(h + 56, (uint32_t)t->end_day);
	util_store_le16(h + 60, (uint16_t)t->retention_months);
	h[62] = (uint8_t)t->retention_unit;
	h[63] = 0;
	util_store_le32(h + 64, (uint32_t)n);
	memcpy(h + 68, mdigest, 32);
	memcpy(h + 100, sealed, DS_SEALED);
	ds_put_str(h, &off, t->protocol_id);
	ds_put_str(h, &off, t->issuer);
	ds_put_str(h, &off, t->recipient);
	ds_put_str(h, &off, t->timezone);
	h[off++] = (uint8_t)t->nfields;
	for (unsigned i = 0; i < t->nfields; i++)
		ds_put_str(h, &off, t->fields[i]);
	return off;
}

static int ds_get_str(const uint8_t *h, size_t hlen, size_t *off, char *out, size_t max)
{
	size_t n;

	if (*off >= hlen)
		return -EINVAL;
	n = h[(*off)++];
	if (n > max || *off + n > hlen || memchr(h + *off, 0, n))
		return -EINVAL;
	memcpy(out, h + *off, n);
	out[n] = 0;
	*off += n;
	return 0;
}

static int ds_field_name_check(const char *s)
{
	if (!*s)
		return -EINVAL;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return -EINVAL;
	return 0;
}

/* Parse the signed header into ds->t; the manifest digest and sealed key stay in
 * the buffer. */
static int ds_header_parse(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	const uint8_t *h = ds->buf + ds->hdr_off;
	size_t hl = ds->hdr_len, off = DS_HDR_FIXED;
	struct dataset_terms *t = &ds->t;
	int rc = 0;

	if (hl < DS_HDR_FIXED || util_load_le16(h) != DS_VERSION ||
	    util_load_le16(h + 2) != DS_SUITE) {
		util_errf(err, errlen, "%s: header: unsupported version or algorithm", path);
		return -EBADMSG;
	}
	memcpy(t->issuer_keyid, h + 4, 8);
	memcpy(t->recipient_keyid, h + 12, 8);
	memcpy(t->uuid, h + 20, 16);
	t->serial = util_load_le64(h + 36);
	t->issued_at = (int64_t)util_load_le64(h + 44);
	t->start_day = (int32_t)util_load_le32(h + 52);
	t->end_day = (int32_t)util_load_le32(h + 56);
	t->retention_months = util_load_le16(h + 60);
	t->retention_unit = (char)h[62];
	ds->n = util_load_le32(h + 64);
	rc |= ds_get_str(h, hl, &off, t->protocol_id, DATASET_STR_MAX);
	rc |= ds_get_str(h, hl, &off, t->issuer, DATASET_STR_MAX);
	rc |= ds_get_str(h, hl, &off, t->recipient, DATASET_STR_MAX);
	rc |= ds_get_str(h, hl, &off, t->timezone, DATASET_STR_MAX);
	if (rc == 0 && off < hl && h[off] <= DATASET_FIELDS_MAX) {
		t->nfields = h[off++];
		for (unsigned i = 0; rc == 0 && i < t->nfields; i++) {
			rc = ds_get_str(h, hl, &off, t->fields[i], DATASET_FIELD_NAME_MAX);
			rc = rc ? rc : ds_field_name_check(t->fields[i]);
		}
	} else {
		rc = -EINVAL;
	}
	if (rc || off != hl || h[63] != 0 ||
	    (t->retention_unit != 'y' && t->retention_unit != 'm') || t->retention_months < 1 ||
	    t->start_day > t->end_day || ds->n > DATASET_RECORDS_MAX) {
		util_errf(err, errlen, "%s: header: malformed", path);
		return -EBADMSG;
	}
	return 0;
}

/* The signed message: a context string, then the header bytes. */
static int ds_signature_check(struct dataset *ds, const char *path, const struct keys_public *iss,
			      char *err, size_t errlen)
{
	char want[17], got[17];
	size_t clen = sizeof(DS_SIG_CONTEXT), mlen = clen + ds->hdr_len;
	uint8_t *msg;
	int rc = 0;

	if (memcmp(iss->id, ds->t.issuer_keyid, KEYS_ID_BYTES) != 0) {
		keys_id_hex(want, ds->t.issuer_keyid);
		keys_id_hex(got, iss->id);
		util_errf(err, errlen,
			  "%s: signed by issuer key %s, but the key given is %s (wrong issuer key)",
			  path, want, got);
		return -EKEYREJECTED;
	}
	msg = malloc(mlen);
	if (!msg) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	memcpy(msg, DS_SIG_CONTEXT, clen);
	memcpy(msg + clen, ds->buf + ds->hdr_off, ds->hdr_len);
	if (crypto_sign_verify_detached(ds->buf + ds->hdr_off + ds->hdr_len, msg, mlen, iss->pk) !=
	    0) {
		rc = -EBADMSG;
		util_errf(err, errlen, "%s: issuer signature does not verify (header altered)",
			  path);
	}
	free(msg);
	return rc;
}

/* ---------------------------------------------------------------- reader */

static const uint8_t *ds_entry(const struct dataset *ds, size_t i)
{
	return ds->manifest + i * DS_ENTRY;
}

/* Manifest bounds and digest, and the flags. */
static int ds_manifest_check(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	size_t moff = ds->hdr_off + ds->hdr_len + crypto_sign_BYTES;
	uint8_t md[32];

	if (ds->n * (DS_ENTRY + 1) > ds->len - moff) {
		util_errf(err, errlen, "%s: truncated: the index ends beyond the end of the file",
			  path);
		return -EBADMSG;
	}
	ds->manifest = ds->buf + moff;
	ds->flags = ds->manifest + ds->n * DS_ENTRY;
	crypto_generichash(md, 32, ds->manifest, ds->n * DS_ENTRY, NULL, 0);
	if (sodium_memcmp(md, ds->buf + ds->hdr_off + 68, 32) != 0) {
		util_errf(err, errlen, "%s: index does not match the signed header (altered)",
			  path);
		return -EBADMSG;
	}
	for (size_t i = 0; i < ds->n; i++) {
		if (ds->flags[i] > 1) {
			util_errf(err, errlen, "%s: record %zu: malformed index entry", path,
				  i + 1);
			return -EBADMSG;
		}
		ds->npresent += ds->flags[i];
	}
	return 0;
}

/* Walk the present records' units: each length in bounds, the last one ending
 * exactly at the end of the file. */
static int ds_units_walk(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	uint64_t cur = (uint64_t)(ds->flags - ds->buf) + ds->n;

	ds->unit_off = malloc((ds->n ? ds->n : 1) * sizeof(uint64_t));
	if (!ds->unit_off) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ds->n; i++) {
		uint64_t ul;
		ds->unit_off[i] = ds->flags[i] ? cur : UINT64_MAX;
		if (!ds->flags[i])
			continue;
		if (cur + 4 > ds->len) {
			util_errf(err, errlen,
				  "%s: record %zu (byte %llu): truncated (the file ends inside it)",
				  path, i + 1, (unsigned long long)cur);
			return -EBADMSG;
		}
		ul = 4 + (uint64_t)util_load_le32(ds->buf + cur);
		if (ul < DS_UNIT_MIN || ul > DS_UNIT_MAX) {
			util_errf(err, errlen,
				  "%s: record %zu (byte %llu): malformed record length", path,
				  i + 1, (unsigned long long)cur);
			return -EBADMSG;
		}
		if (cur + ul > ds->len) {
			util_errf(err, errlen,
				  "%s: record %zu (byte %llu): truncated (the file ends inside it)",
				  path, i + 1, (unsigned long long)cur);
			return -EBADMSG;
		}
		cur += ul;
	}
	if (cur != ds->len) {
		util_errf(err, errlen, "%s: file is %zu bytes, the records end at byte %llu (%s)",
			  path, ds->len, (unsigned long long)cur,
			  cur > ds->len ? "truncated" : "extended");
		return -EBADMSG;
	}
	return 0;
}

static size_t ds_unit_len(const struct dataset *ds, size_t i)
{
	return 4 + (size_t)util_load_le32(ds->buf + ds->unit_off[i]);
}

/* Work over records [lo, hi), on a thread of its own or not; bad is the first
 * record that failed (SIZE_MAX: none). */
struct ds_job {
	const struct dataset *ds;
	size_t lo, hi, bad;
	/* ids only: where the job writes ids (cap bytes; grown only when grow is
	 * set, the arena then being ds->ids'), and the error of its first failure */
	char *arena;
	size_t cap, used;
	bool grow;
	int rc;
	char err[256];
};

/* Run fn on [0, n) in two halves, the second on another thread when n is large
 * enough for it to pay (the machines have 2 cores or more); with no thread, both
 * halves run here. j[0] and j[1] are the halves. */
static void ds_halves(const struct dataset *ds, struct ds_job j[2])
{
	size_t mid = ds->n >= 512 ? ds->n / 2 : ds->n;

	j[0] = (struct ds_job){.ds = ds, .lo = 0, .hi = mid, .bad = SIZE_MAX};
	j[1] = (struct ds_job){.ds = ds, .lo = mid, .hi = ds->n, .bad = SIZE_MAX};
}

/* Run fn on j[0] here and on j[1] on a thread of its own (here too when j[1] is
 * empty or no thread can be had). */
static void ds_run(void *(*fn)(void *), struct ds_job j[2])
{
	pthread_t th;
	bool threaded;

	threaded = j[1].lo < j[1].hi && pthread_create(&th, NULL, fn, &j[1]) == 0;
	fn(&j[0]);
	if (threaded)
		pthread_join(th, NULL);
	else if (j[1].lo < j[1].hi)
		fn(&j[1]);
}

static void *ds_units_job(void *arg)
{
	struct ds_job *j = arg;
	const struct dataset *ds = j->ds;
	uint8_t d[32];

	for (size_t i = j->lo; i < j->hi; i++) {
		if (ds->unit_off[i] == UINT64_MAX)
			continue;
		crypto_generichash(d, 32, ds->buf + ds->unit_off[i], ds_unit_len(ds, i), NULL, 0);
		if (sodium_memcmp(d, ds_entry(ds, i) + 4, 32) != 0) {
			j->bad = i;
			break;
		}
	}
	return NULL;
}

/* Each present unit against its signed commitment (the bulk of the work of
 * verifying: two threads). The first failing record is named. */
static int ds_units_check(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	struct ds_job j[2];
	size_t bad;

	ds_halves(ds, j);
	ds_run(ds_units_job, j);
	bad = j[0].bad != SIZE_MAX ? j[0].bad : j[1].bad;
	if (bad == SIZE_MAX)
		return 0;
	util_errf(err, errlen, "%s: record %zu (byte %llu): does not match its signed digest", path,
		  bad + 1, (unsigned long long)ds->unit_off[bad]);
	return -EBADMSG;
}

/* Magic (format 1 named), header length and header parse. */
static int ds_frame_parse(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	if (ds->len >= 8 && memcmp(ds->buf, DS_MAGIC_V1, 8) == 0) {
		util_errf(err, errlen,
			  "%s: dataset format 1 is no longer read (this protocolfs reads format "
			  "2): ask the issuer to seal it again",
			  path);
		return -EPROTONOSUPPORT;
	}
	if (ds->len < 12 || memcmp(ds->buf, DS_MAGIC, 8) != 0) {
		util_errf(err, errlen, "%s: not a protocolfs dataset (bad magic)", path);
		return -EBADMSG;
	}
	ds->hdr_off = 12;
	ds->hdr_len = util_load_le32(ds->buf + 8);
	if (ds->hdr_len > DS_HDR_MAX || ds->hdr_off + ds->hdr_len + crypto_sign_BYTES > ds->len) {
		util_errf(err, errlen, "%s: truncated or malformed header", path);
		return -EBADMSG;
	}
	return ds_header_parse(ds, path, err, errlen);
}

/* Every check of dataset_open on ds->buf. */
static int ds_verify(struct dataset *ds, const char *path, const struct keys_public *issuer,
		     char *err, size_t errlen)
{
	int rc = ds_frame_parse(ds, path, err, errlen);

	if (rc == 0 && issuer)
		rc = ds_signature_check(ds, path, issuer, err, errlen);
	if (rc == 0)
		rc = ds_manifest_check(ds, path, err, errlen);
	if (rc == 0)
		rc = ds_units_walk(ds, path, err, errlen);
	if (rc == 0)
		rc = ds_units_check(ds, path, err, errlen);
	if (rc == 0) {
		ds->signed_ok = issuer != NULL;
		if (issuer)
			ds->issuer = *issuer;
	}
	return rc;
}

int dataset_open(struct dataset **out, const char *path, const struct keys_public *issuer,
		 char *err, size_t errlen)
{
	struct dataset *ds = calloc(1, sizeof(*ds));
	int rc = -ENOMEM;

	*out = NULL;
	if (!ds) {
		util_errf(err, errlen, "%s: out of memory", path);
		return rc;
	}
	/* a private copy: what was verified is what is served, whatever happens to
	 * the file afterwards */
	rc = util_read_file(path, &ds->buf, &ds->len, DS_FILE_MAX, err, errlen);
	if (rc == 0)
		rc = ds_verify(ds, path, issuer, err, errlen);
	if (rc < 0) {
		dataset_close(ds);
		return rc;
	}
	*out = ds;
	return 0;
}

/* Verify a file this process just wrote and still holds open (fd), through a
 * read-only mapping: it is our own temporary file, so the copy dataset_open
 * makes would only cost time and memory. The mapping is gone when this returns. */
static int ds_verify_written(int fd, const char *path, const struct keys_public *issuer, char *err,
			     size_t errlen)
{
	struct dataset *ds = calloc(1, sizeof(*ds));
	struct stat st;
	int rc = 0;

	if (!ds) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 12) {
		rc = -EIO;
		util_errf(err, errlen, "%s: not a protocolfs dataset (bad magic)", path);
	} else {
		ds->len = (size_t)st.st_size;
		ds->buf = mmap(NULL, ds->len, PROT_READ, MAP_SHARED, fd, 0);
		if (ds->buf == MAP_FAILED) {
			rc = -errno;
			ds->buf = NULL;
			util_errf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		}
	}
	if (rc == 0)
		rc = ds_verify(ds, path, issuer, err, errlen);
	if (ds->buf)
		munmap(ds->buf, ds->len);
	ds->buf = NULL;
	dataset_close(ds);
	return rc;
}

bool dataset_signature_checked(const struct dataset *ds)
{
	return ds->signed_ok;
}

/* ---------------------------------------------------------------- index */

static uint64_t ds_hash(const struct dataset *ds, const char *id, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const uint8_t *)id, len, ds->keys + 64);
	return util_load_le64(h);
}

/* A slot holds record index + 1 in its low 24 bits (DATASET_RECORDS_MAX < 2^24)
 * and 8 more bits of the hash above them, so that most probes that do not match
 * are settled without touching the ids. */
#define DS_SLOT_REC 0xffffffu
static uint32_t ds_tag(uint64_t h)
{
	return (uint32_t)(h >> 56) << 24;
}

/* The first slot to probe: the low 32 bits of h scaled to [0, nslots). */
static size_t ds_home(uint64_t h, size_t nslots)
{
	return (size_t)(((h & 0xffffffffu) * (uint64_t)nslots) >> 32);
}

/* Slot of id (hash h): the record's slot, or the empty slot where it would go. */
static size_t ds_slot(const struct dataset *ds, uint64_t h, const char *id, size_t len)
{
	size_t s = ds_home(h, ds->nslots);

	for (;; s = s + 1 == ds->nslots ? 0 : s + 1) {
		uint32_t v = ds->slots[s], r = v & DS_SLOT_REC;
		if (v == 0)
			return s;
		if ((v & ~DS_SLOT_REC) == ds_tag(h) && ds->id_off[r] - ds->id_off[r - 1] == len &&
		    memcmp(ds->ids + ds->id_off[r - 1], id, len) == 0)
			return s;
	}
}

/* Decrypt record i's id to dst (DATASET_ID_MAX bytes free) and return its
 * length, or a negative errno. */
static int ds_id_open(const struct dataset *ds, size_t i, char *dst, char *err, size_t errlen)
{
	const uint8_t *u = ds->buf + ds->unit_off[i];
	uint8_t ad[DS_AD_MAX];
	size_t adlen = ds_ad(ad, &ds->t, NULL, 0), len;

	if (crypto_aead_chacha20poly1305_ietf_decrypt((uint8_t *)dst, NULL, NULL, u + U_ID,
						      DS_ID_CT, ad, adlen, u + U_NONCE,
						      ds->keys) != 0) {
		util_errf(err, errlen, "record %zu (byte %llu): id does not decrypt (altered)",
			  i + 1, (unsigned long long)ds->unit_off[i]);
		return -EBADMSG;
	}
	len = strnlen(dst, DATASET_ID_MAX);
	for (size_t k = len; k < DATASET_ID_MAX; k++)
		if (dst[k]) {
			len = 0;
			break;
		}
	if (dataset_id_check(dst, len) < 0) {
		sodium_memzero(dst, DATASET_ID_MAX);
		util_errf(err, errlen, "record %zu: malformed id", i + 1);
		return -EBADMSG;
	}
	return (int)len;
}

/* Make room for need more bytes in a sodium_malloc'ed arena (doubling; the old
 * copy is wiped by sodium_free). */
static int ds_arena_room(char **arena, size_t used, size_t need, size_t *cap)
{
	size_t nc = *cap;
	char *nw;

	if (used + need <= *cap)
		return 0;
	while (nc < used + need)
		nc *= 2;
	nw = sodium_malloc(nc);
	if (!nw)
		return -ENOMEM;
	memcpy(nw, *arena, used);
	sodium_free(*arena);
	*arena = nw;
	*cap = nc;
	return 0;
}

/* Decrypt the ids of [lo, hi) into the job's arena; id_off[i + 1] gets the end
 * of record i's id, relative to the start of the job's arena. -ENOSPC when the
 * arena is full and may not grow. */
static void *ds_ids_job(void *arg)
{
	struct ds_job *j = arg;
	const struct dataset *ds = j->ds;

	for (size_t i = j->lo; i < j->hi; i++) {
		if (ds->unit_off[i] != UINT64_MAX) {
			int rc = 0;
			if (j->used + DATASET_ID_MAX > j->cap)
				rc = j->grow ? ds_arena_room(&j->arena, j->used, DATASET_ID_MAX,
							     &j->cap)
					     : -ENOSPC;
			if (rc == 0)
				rc = ds_id_open(ds, i, j->arena + j->used, j->err, sizeof(j->err));
			else
				util_errf(j->err, sizeof(j->err), "out of memory");
			if (rc < 0) {
				j->rc = rc;
				j->bad = i;
				return NULL;
			}
			j->used += (size_t)rc;
		}
		ds->id_off[i + 1] = (uint32_t)j->used;
	}
	return NULL;
}

/* Decrypt every present id once into one arena, in record order: two threads,
 * each into its own part of one arena sized for ids of about 11 bytes, the second
 * part then moved down against the first. When a part turns out too small (long
 * ids), everything is done again on one thread with an arena that grows. */
static int ds_ids_decrypt(struct dataset *ds, char *err, size_t errlen)
{
	struct ds_job j[2];
	size_t first = 0, cap = ds->npresent * 12 + 2 * DATASET_ID_MAX, base;
	int rc = 0;

	ds->id_off = sodium_malloc((ds->n + 1) * sizeof(uint32_t));
	ds->ids = sodium_malloc(cap);
	if (!ds->id_off || !ds->ids) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ds->id_off[0] = 0;
	ds_halves(ds, j);
	for (size_t i = 0; i < j[0].hi; i++)
		first += ds->unit_off[i] != UINT64_MAX;
	base = first * 12 + DATASET_ID_MAX;
	j[0].arena = ds->ids;
	j[0].cap = base;
	j[1].arena = ds->ids + base;
	j[1].cap = cap - base;
	ds_run(ds_ids_job, j);
	if (j[0].rc == -ENOSPC || j[1].rc == -ENOSPC) {
		sodium_memzero(ds->ids, cap);
		j[0] = (struct ds_job){.ds = ds, .lo = 0, .hi = ds->n, .bad = SIZE_MAX};
		j[0].arena = ds->ids;
		j[0].cap = cap;
		j[0].grow = true;
		j[1] = (struct ds_job){.ds = ds};
		ds_ids_job(&j[0]);
		ds->ids = j[0].arena;
	}
	if (j[0].rc < 0 || j[1].rc < 0) {
		util_errf(err, errlen, "%s", j[0].rc < 0 ? j[0].err : j[1].err);
		return j[0].rc < 0 ? j[0].rc : j[1].rc;
	}
	if (j[1].used) {
		memmove(ds->ids + j[0].used, ds->ids + base, j[1].used);
		for (size_t i = j[1].lo; i < j[1].hi; i++)
			ds->id_off[i + 1] += (uint32_t)j[0].used;
		/* no second copy of an id stays behind the moved part */
		sodium_memzero(ds->ids + j[0].used + j[1].used, base - j[0].used);
	}
	return rc;
}

/* The hash table over the decrypted ids; a repeated id is refused. The hashes
 * are computed DS_AHEAD records ahead and their slots prefetched: the table is
 * far larger than the caches, and a miss per record would dominate. */
#define DS_AHEAD 16
static int ds_table_build(struct dataset *ds, char *err, size_t errlen)
{
	size_t nslots = ds->npresent + ds->npresent / 2 + 16, i, k;
	uint64_t ring[DS_AHEAD];

	ds->nslots = nslots;
	ds->slots = sodium_malloc(nslots * sizeof(uint32_t));
	if (!ds->slots) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(ds->slots, 0, nslots * sizeof(uint32_t));
	for (k = 0; k < DS_AHEAD && k < ds->n; k++) {
		ring[k] = ds_hash(ds, ds->ids + ds->id_off[k], ds->id_off[k + 1] - ds->id_off[k]);
		__builtin_prefetch(&ds->slots[ds_home(ring[k], nslots)]);
	}
	for (i = 0; i < ds->n; i++) {
		uint64_t h = ring[i % DS_AHEAD];
		size_t len = ds->id_off[i + 1] - ds->id_off[i], s;
		if (i + DS_AHEAD < ds->n) {
			k = i + DS_AHEAD;
			ring[k % DS_AHEAD] =
			    ds_hash(ds, ds->ids + ds->id_off[k], ds->id_off[k + 1] - ds->id_off[k]);
			__builtin_prefetch(&ds->slots[ds_home(ring[k % DS_AHEAD], nslots)]);
		}
		if (len == 0)
			continue; /* purged */
		s = ds_slot(ds, h, ds->ids + ds->id_off[i], len);
		if (ds->slots[s]) {
			util_errf(err, errlen, "record %zu: duplicate id (the same as record %u)",
				  i + 1, ds->slots[s] & DS_SLOT_REC);
			return -EBADMSG;
		}
		ds->slots[s] = ds_tag(h) | (uint32_t)(i + 1);
	}
	return 0;
}

static void ds_index_free(struct dataset *ds)
{
	sodium_free(ds->keys); /* sodium_free wipes */
	sodium_free(ds->ids);
	sodium_free(ds->id_off);
	sodium_free(ds->slots);
	ds->keys = NULL;
	ds->ids = NULL;
	ds->id_off = NULL;
	ds->slots = NULL;
}

int dataset_unlock(struct dataset *ds, const struct keys_secret *rcp, char *err, size_t errlen)
{
	char want[17], got[17];
	const uint8_t *sealed = ds->buf + ds->hdr_off + 100;
	int rc;

	if (memcmp(rcp->id, ds->t.recipient_keyid, KEYS_ID_BYTES) != 0) {
		keys_id_hex(want, ds->t.recipient_keyid);
		keys_id_hex(got, rcp->id);
		util_errf(err, errlen,
			  "dataset is sealed for recipient key %s, but the key given is %s "
			  "(wrong recipient key)",
			  want, got);
		return -EKEYREJECTED;
	}
	ds_index_free(ds);
	ds->keys = sodium_malloc(64 + 32 + crypto_shorthash_KEYBYTES);
	if (!ds->keys) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* the file key sits after the subkeys and is wiped once they are derived */
	if (crypto_box_seal_open(ds->keys + 64, sealed, DS_SEALED, rcp->pk, rcp->sk) != 0) {
		ds_index_free(ds);
		util_errf(err, errlen,
			  "cannot open the dataset's file key with this recipient key");
		return -EKEYREJECTED;
	}
	ds_subkeys(ds->keys, ds->keys + 64);
	sodium_memzero(ds->keys + 64, 32);
	crypto_shorthash_keygen(ds->keys + 64);
	rc = ds_ids_decrypt(ds, err, errlen);
	if (rc == 0)
		rc = ds_table_build(ds, err, errlen);
	if (rc < 0) {
		ds_index_free(ds);
		return rc;
	}
	sodium_mprotect_readonly(ds->keys);
	sodium_mprotect_readonly(ds->ids);
	sodium_mprotect_readonly(ds->id_off);
	sodium_mprotect_readonly(ds->slots);
	return 0;
}

const struct dataset_terms *dataset_terms(const struct dataset *ds)
{
	return &ds->t;
}

size_t dataset_count(const struct dataset *ds)
{
	return ds->n;
}

size_t dataset_present(const struct dataset *ds)
{
	return ds->npresent;
}

bool dataset_record_is_present(const struct dataset *ds, size_t i)
{
	return ds->unit_off[i] != UINT64_MAX;
}

const char *dataset_record_id(const struct dataset *ds, size_t i, size_t *len)
{
	if (!ds->id_off || i >= ds->n) {
		*len = 0;
		return "";
	}
	*len = ds->id_off[i + 1] - ds->id_off[i];
	return *len ? ds->ids + ds->id_off[i] : "";
}

int32_t dataset_record_shared_on(const struct dataset *ds, size_t i)
{
	return (int32_t)util_load_le32(ds_entry(ds, i));
}

int32_t dataset_record_deadline(const struct dataset *ds, size_t i)
{
	return clock_add_months(dataset_record_shared_on(ds, i), ds->t.retention_months);
}

long dataset_find(const struct dataset *ds, const char *id, size_t len)
{
	size_t s;

	if (!ds->slots || len < 1 || len > DATASET_ID_MAX)
		return -1;
	s = ds_slot(ds, ds_hash(ds, id, len), id, len);
	return ds->slots[s] ? (long)(ds->slots[s] & DS_SLOT_REC) - 1 : -1;
}

static int ds_record_reserve(struct dataset_record *rec, size_t need)
{
	if (rec->cap >= need)
		return 0;
	sodium_free(rec->buf);
	rec->cap = 0;
	rec->buf = sodium_malloc(need < 4096 ? 4096 : need);
	if (!rec->buf)
		return -ENOMEM;
	rec->cap = need < 4096 ? 4096 : need;
	return 0;
}

/* Split the plaintext into nfields values of u16le length + bytes, followed by
 * fewer than DS_PAD zero bytes up to a multiple of DS_PAD. */
static int ds_record_split(struct dataset_record *rec, unsigned nfields)
{
	size_t off = 0;

	for (unsigned f = 0; f < nfields; f++) {
		size_t vl;
		if (off + 2 > rec->len)
			return -EBADMSG;
		vl = util_load_le16(rec->buf + off);
		off += 2;
		if (off + vl > rec->len)
			return -EBADMSG;
		rec->value[f] = (const char *)rec->buf + off;
		rec->vlen[f] = vl;
		off += vl;
	}
	rec->nfields = nfields;
	if (rec->len % DS_PAD || rec->len - off >= DS_PAD)
		return -EBADMSG;
	for (; off < rec->len; off++)
		if (rec->buf[off])
			return -EBADMSG;
	return 0;
}

int dataset_record_open(const struct dataset *ds, size_t i, struct dataset_record *rec, char *err,
			size_t errlen)
{
	const uint8_t *u;
	uint8_t ad[DS_AD_MAX];
	size_t clen, adlen, il;
	unsigned long long plen = 0;
	const char *id;
	int rc;

	rec->len = 0;
	rec->nfields = 0;
	/* the bounds first: the manifest entry of an index past the end is not ours */
	if (i >= ds->n) {
		util_errf(err, errlen, "record %zu: out of range (%zu records)", i + 1, ds->n);
		return -ERANGE;
	}
	if (ds->unit_off[i] == UINT64_MAX || !ds->keys) {
		util_errf(err, errlen, "record %zu: %s", i + 1,
			  ds->keys ? "purged" : "dataset not unlocked");
		return -ENOENT;
	}
	u = ds->buf + ds->unit_off[i];
	clen = ds_unit_len(ds, i) - U_BODY;
	rc = ds_record_reserve(rec, clen);
	if (rc < 0) {
		util_errf(err, errlen, "record %zu: out of memory", i + 1);
		return rc;
	}
	id = dataset_record_id(ds, i, &il);
	adlen = ds_ad(ad, &ds->t, id, il);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(rec->buf, &plen, NULL, u + U_BODY, clen, ad,
						       adlen, u + U_NONCE, ds->keys + 32) != 0) {
		util_errf(err, errlen, "record %zu: does not decrypt (wrong key or altered)",
			  i + 1);
		return -EBADMSG;
	}
	rec->len = (size_t)plen;
	rc = ds_record_split(rec, ds->t.nfields);
	if (rc < 0) {
		dataset_record_wipe(rec);
		util_errf(err, errlen, "record %zu: malformed plaintext", i + 1);
	}
	return rc;
}

void dataset_record_wipe(struct dataset_record *rec)
{
	if (rec->buf)
		sodium_memzero(rec->buf, rec->len);
	rec->len = 0;
	rec->nfields = 0;
}

void dataset_record_free(struct dataset_record *rec)
{
	sodium_free(rec->buf); /* wipes the whole allocation */
	memset(rec, 0, sizeof(*rec));
}

void dataset_close(struct dataset *ds)
{
	if (!ds)
		return;
	ds_index_free(ds);
	free(ds->unit_off);
	free(ds->buf);
	free(ds);
}
/* ---------------------------------------------------------------- output */

/* Buffered writes to a util_out, so a million small bodies cost few syscalls. */
struct ds_sink {
	struct util_out *o;
	uint8_t *buf;
	size_t len, cap;
	int rc;
	char *err;
	size_t errlen;
};

static void ds_sink_put(struct ds_sink *s, const void *p, size_t n)
{
	if (s->rc)
		return;
	if (s->len + n > s->cap) {
		s->rc = util_out_write(s->o, s->buf, s->len, s->err, s->errlen);
		s->len = 0;
		if (s->rc || n > s->cap) {
			if (!s->rc)
				s->rc = util_out_write(s->o, p, n, s->err, s->errlen);
			return;
		}
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static int ds_sink_flush(struct ds_sink *s)
{
	if (!s->rc && s->len)
		s->rc = util_out_write(s->o, s->buf, s->len, s->err, s->errlen);
	s->len = 0;
	return s->rc;
}

/* Open path's temp file and a 1 MiB write buffer. */
static int ds_sink_open(struct ds_sink *s, struct util_out *o, const char *path, char *err,
			size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->err = err;
	s->errlen = errlen;
	s->cap = 1 << 20;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	s->rc = util_out_open(o, path, 0644, err, errlen);
	if (s->rc) {
		free(s->buf);
		s->buf = NULL;
	}
	return s->rc;
}

/* Flush, re-read and verify the temp file, then rename it into place. */
static int ds_sink_commit(struct ds_sink *s, const struct keys_public *issuer, bool overwrite)
{
	char msg[512];
	int rc = ds_sink_flush(s);

	free(s->buf);
	s->buf = NULL;
	if (rc == 0 && fsync(s->o->fd) < 0) {
		rc = -errno;
		util_errf(s->err, s->errlen, "%s: fsync failed: %s", s->o->path, strerror(errno));
	}
	if (rc == 0) {
		rc = ds_verify_written(s->o->fd, s->o->tmp, issuer, msg, sizeof(msg));
		if (rc < 0)
			util_errf(s->err, s->errlen, "%s: the written file does not verify: %s",
				  s->o->path, msg);
	}
	if (rc == 0)
		return util_out_commit(s->o, overwrite, s->err, s->errlen);
	util_out_abort(s->o);
	return rc;
}

static void ds_sink_prologue(struct ds_sink *s, const uint8_t *hdr, size_t hlen, const uint8_t *sig)
{
	uint8_t len4[4];

	util_store_le32(len4, (uint32_t)hlen);
	ds_sink_put(s, DS_MAGIC, 8);
	ds_sink_put(s, len4, 4);
	ds_sink_put(s, hdr, hlen);
	ds_sink_put(s, sig, crypto_sign_BYTES);
}

int dataset_purge_write(const struct dataset *ds, const uint8_t *drop, const char *path, char *err,
			size_t errlen)
{
	struct util_out o = {.fd = -1};
	struct ds_sink s;
	uint8_t flag;
	int rc;

	if (!ds->signed_ok) {
		util_errf(err, errlen,
			  "%s: refusing to purge a dataset whose signature was not checked", path);
		return -EINVAL;
	}
	rc = ds_sink_open(&s, &o, path, err, errlen);
	if (rc < 0)
		return rc;
	ds_sink_prologue(&s, ds->buf + ds->hdr_off, ds->hdr_len,
			 ds->buf + ds->hdr_off + ds->hdr_len);
	ds_sink_put(&s, ds->manifest, ds->n * DS_ENTRY);
	for (size_t i = 0; i < ds->n; i++) {
		flag = ds->flags[i] && !drop[i];
		ds_sink_put(&s, &flag, 1);
	}
	/* a purged record's unit (nonce, id and values) is not copied: only its
	 * commitment in the manifest remains */
	for (size_t i = 0; i < ds->n; i++)
		if (ds->flags[i] && !drop[i])
			ds_sink_put(&s, ds->buf + ds->unit_off[i], ds_unit_len(ds, i));
	return ds_sink_commit(&s, &ds->issuer, true);
}

/* ---------------------------------------------------------------- writer */

/* Units are streamed to an unlinked spool file as they are added, scattered over
 * DS_BUCKETS buckets by a random byte of their nonce; finish shuffles each bucket
 * in memory and writes them in bucket order. A uniformly random bucket followed
 * by a uniform shuffle within it is a uniformly random permutation, so the order
 * of the records in the file says nothing about their ids or the export's order,
 * and only one bucket of ciphertext is in memory at a time. */
#define DS_BUCKETS    64
#define DS_BUCKET_BUF (64u << 10)
/* Bucket buffers grow (doubling) while all of them together hold at most this
 * much ciphertext; past it they spill to the spool: writing and re-reading it is
 * the larger part of sealing's system time, and a 1M-person dataset's units are
 * about 280 MB. Sealing's peak stays well under 1.5 x the dataset. */
#define DS_MEM_BUDGET ((size_t)128 << 20)
#define DS_IDBLOCK    (1u << 20)

struct ds_wrec {
	uint8_t commit[32];
	uint64_t boff; /* offset of the unit in its bucket */
	int32_t shared_on;
	uint32_t ulen;	/* whole unit */
	uint32_t idref; /* into the id blocks */
	uint8_t bucket;
};

struct ds_chunk {
	uint64_t off;
	uint32_t len;
	uint8_t bucket;
};

struct ds_bucket {
	uint8_t *buf; /* the bucket's tail, after its chunks in the spool */
	size_t len, cap;
	uint64_t total;
};

struct dataset_writer {
	struct dataset_terms t;
	char path[4096];
	uint8_t *key;	/* sodium_malloc: id key || body key || hash key */
	uint8_t *plain; /* sodium_malloc scratch: one record's plaintext, then its padded id */
	uint8_t *unit;	/* one unit (ciphertext) */
	uint8_t sealed[DS_SEALED];
	uint8_t nonces[DS_NONCE * 256];
	size_t nonce_left;
	struct ds_wrec *recs;
	size_t n, cap;
	/* duplicates: ids (u8 length + bytes) in sodium_malloc'ed blocks, a table of
	 * record index + 1 under a keyed SipHash; the first repeat is kept */
	uint8_t **idblk;
	size_t nidblk, idused;
	uint32_t *slots;
	size_t nslots;
	size_t dup_first, dup;
	/* the spool */
	int fd;
	uint64_t spool_end;
	size_t inmem;  /* sum of the bucket buffers' capacities */
	size_t budget; /* DS_MEM_BUDGET, or dataset_writer_set_budget's */
	struct ds_bucket b[DS_BUCKETS];
	struct ds_chunk *chunks;
	size_t nchunks, chunkcap;
};

/* An unlinked file in the folder of path (ciphertext only). */
static int ds_spool_open(struct dataset_writer *w, const char *path, char *err, size_t errlen)
{
	char dir[4096], tmp[4200];
	const char *slash = strrchr(path, '/');
	int e;

	if (strlen(path) >= sizeof(w->path)) {
		util_errf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(w->path, path);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	w->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(tmp, sizeof(tmp), "%s.spool.XXXXXX", path);
		w->fd = mkostemp(tmp, O_CLOEXEC);
		if (w->fd >= 0)
			unlink(tmp);
	}
	if (w->fd < 0) {
		e = errno;
		util_errf(err, errlen, "%s: cannot create temporary file: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int dataset_writer_new(struct dataset_writer **out, const struct dataset_terms *t,
		       const struct keys_public *recipient, const char *path, char *err,
		       size_t errlen)
{
	struct dataset_writer *w = calloc(1, sizeof(*w));
	uint8_t *file_key = sodium_malloc(32);
	int rc = -ENOMEM;

	*out = NULL;
	if (w)
		w->fd = -1;
	if (!w || !file_key || !(w->key = sodium_malloc(64 + crypto_shorthash_KEYBYTES)) ||
	    !(w->plain = sodium_malloc(DS_PLAIN_MAX + DATASET_ID_MAX)) ||
	    !(w->unit = malloc(DS_UNIT_MAX))) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < DS_BUCKETS; i++) {
		w->b[i].cap = DS_BUCKET_BUF;
		w->inmem += DS_BUCKET_BUF;
		if (!(w->b[i].buf = malloc(DS_BUCKET_BUF))) {
			util_errf(err, errlen, "out of memory");
			goto fail;
		}
	}
	rc = ds_spool_open(w, path, err, errlen);
	if (rc < 0)
		goto fail;
	w->t = *t;
	w->budget = DS_MEM_BUDGET;
	w->dup = w->dup_first = SIZE_MAX;
	randombytes_buf(w->t.uuid, sizeof(w->t.uuid));
	memcpy(w->t.recipient_keyid, recipient->id, KEYS_ID_BYTES);
	crypto_aead_xchacha20poly1305_ietf_keygen(file_key);
	crypto_box_seal(w->sealed, file_key, 32, recipient->pk);
	ds_subkeys(w->key, file_key);
	crypto_shorthash_keygen(w->key + 64);
	sodium_free(file_key);
	*out = w;
	return 0;
fail:
	sodium_free(file_key);
	dataset_writer_free(w);
	return rc;
}

void dataset_writer_set_budget(struct dataset_writer *w, size_t bytes)
{
	w->budget = bytes;
}

/* Append a chunk of bucket k's units to the spool. */
static int ds_spool_write(struct dataset_writer *w, unsigned k, const uint8_t *p, size_t n)
{
	struct ds_chunk *c;

	if (n == 0)
		return 0;
	if (w->nchunks == w->chunkcap) {
		size_t nc = w->chunkcap ? w->chunkcap * 2 : 256;
		c = realloc(w->chunks, nc * sizeof(*c));
		if (!c)
			return -ENOMEM;
		w->chunks = c;
		w->chunkcap = nc;
	}
	for (size_t done = 0; done < n;) {
		ssize_t r = pwrite(w->fd, p + done, n - done, (off_t)(w->spool_end + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	w->chunks[w->nchunks++] = (struct ds_chunk){w->spool_end, (uint32_t)n, (uint8_t)k};
	w->spool_end += n;
	return 0;
}

/* Put one unit into bucket k; returns its offset in the bucket through *boff. */
static int ds_bucket_put(struct dataset_writer *w, unsigned k, const uint8_t *u, size_t n,
			 uint64_t *boff)
{
	struct ds_bucket *b = &w->b[k];
	size_t nc = b->cap;
	int rc = 0;

	*boff = b->total;
	while (nc < b->len + n)
		nc *= 2;
	if (nc > b->cap && w->inmem - b->cap + nc <= w->budget) {
		uint8_t *nb = realloc(b->buf, nc);
		if (!nb)
			return -ENOMEM;
		w->inmem += nc - b->cap;
		b->buf = nb;
		b->cap = nc;
	}
	if (b->len + n > b->cap) {
		rc = ds_spool_write(w, k, b->buf, b->len);
		b->len = 0;
	}
	if (rc == 0 && n > b->cap)
		rc = ds_spool_write(w, k, u, n);
	else if (rc == 0) {
		memcpy(b->buf + b->len, u, n);
		b->len += n;
	}
	b->total += n;
	return rc;
}

static const uint8_t *ds_wid(const struct dataset_writer *w, uint32_t ref)
{
	return w->idblk[ref / DS_IDBLOCK] + ref % DS_IDBLOCK;
}

static uint64_t ds_whash(const struct dataset_writer *w, const char *id, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const uint8_t *)id, len, w->key + 64);
	return util_load_le64(h);
}

/* Slots as in the reader: record index + 1 in the low 24 bits, a hash tag above. */
static size_t ds_wslot(const struct dataset_writer *w, uint64_t h, const char *id, size_t len)
{
	size_t mask = w->nslots - 1, s;

	for (s = (size_t)h & mask;; s = (s + 1) & mask) {
		uint32_t v = w->slots[s];
		const uint8_t *e;
		if (!v)
			return s;
		if ((v & ~DS_SLOT_REC) != ds_tag(h))
			continue;
		e = ds_wid(w, w->recs[(v & DS_SLOT_REC) - 1].idref);
		if (e[0] == len && memcmp(e + 1, id, len) == 0)
			return s;
	}
}

/* Double the table (at most half full) and re-insert every record. */
static int ds_wtable_grow(struct dataset_writer *w)
{
	size_t ns = w->nslots ? w->nslots * 2 : 1024;
	uint32_t *old = w->slots;
	size_t on = w->nslots;

	w->slots = sodium_malloc(ns * sizeof(uint32_t));
	if (!w->slots) {
		w->slots = old;
		return -ENOMEM;
	}
	memset(w->slots, 0, ns * sizeof(uint32_t));
	w->nslots = ns;
	for (size_t s = 0; s < on; s++)
		if (old[s]) {
			const uint8_t *e = ds_wid(w, w->recs[(old[s] & DS_SLOT_REC) - 1].idref);
			uint64_t h = ds_whash(w, (const char *)e + 1, e[0]);
			w->slots[ds_wslot(w, h, (const char *)e + 1, e[0])] = old[s];
		}
	sodium_free(old);
	return 0;
}

/* Remember record n's id; the first repeat of an id is kept for finish. */
static int ds_wid_add(struct dataset_writer *w, const char *id, size_t idlen, uint32_t *ref)
{
	size_t s, blk = w->idused / DS_IDBLOCK;

	uint64_t h;

	if ((w->n + 1) * 2 > w->nslots && ds_wtable_grow(w) < 0)
		return -ENOMEM;
	h = ds_whash(w, id, idlen);
	s = ds_wslot(w, h, id, idlen);
	if (w->slots[s]) {
		if (w->dup == SIZE_MAX) {
			w->dup_first = (w->slots[s] & DS_SLOT_REC) - 1;
			w->dup = w->n;
		}
		*ref = w->recs[(w->slots[s] & DS_SLOT_REC) - 1].idref;
		return 0;
	}
	if (w->idused + 1 + idlen > w->nidblk * DS_IDBLOCK) {
		uint8_t **nb = realloc(w->idblk, (w->nidblk + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		w->idblk = nb;
		if (!(nb[w->nidblk] = sodium_malloc(DS_IDBLOCK)))
			return -ENOMEM;
		w->idused = w->nidblk++ * DS_IDBLOCK;
	}
	blk = w->idused / DS_IDBLOCK;
	*ref = (uint32_t)w->idused;
	w->idblk[blk][w->idused % DS_IDBLOCK] = (uint8_t)idlen;
	memcpy(w->idblk[blk] + w->idused % DS_IDBLOCK + 1, id, idlen);
	w->idused += 1 + idlen;
	w->slots[s] = ds_tag(h) | (uint32_t)(w->n + 1);
	return 0;
}

/* The next random nonce, from a pool refilled 256 at a time. */
static const uint8_t *ds_nonce(struct dataset_writer *w)
{
	if (w->nonce_left == 0) {
		randombytes_buf(w->nonces, sizeof(w->nonces));
		w->nonce_left = 256;
	}
	return w->nonces + DS_NONCE * --w->nonce_left;
}

/* Encrypt one record into w->unit: length, nonce, padded id, padded values. */
static size_t ds_unit_build(struct dataset_writer *w, const char *id, size_t idlen,
			    const char *const *values, const size_t *lens)
{
	uint8_t ad[DS_AD_MAX], *u = w->unit, *idpad = w->plain + DS_PLAIN_MAX;
	size_t plen = 0, adlen;

	for (unsigned f = 0; f < w->t.nfields; f++) {
		util_store_le16(w->plain + plen, (uint16_t)lens[f]);
		memcpy(w->plain + plen + 2, values[f], lens[f]);
		plen += 2 + lens[f];
	}
	memset(w->plain + plen, 0, (DS_PAD - plen % DS_PAD) % DS_PAD);
	plen += (DS_PAD - plen % DS_PAD) % DS_PAD;
	memset(idpad, 0, DATASET_ID_MAX);
	memcpy(idpad, id, idlen);
	memcpy(u + U_NONCE, ds_nonce(w), DS_NONCE);
	adlen = ds_ad(ad, &w->t, NULL, 0);
	/* the id under the IETF construction, nonce = the first 12 bytes of the
	 * record's random nonce: unique with overwhelming probability for the at most
	 * DATASET_RECORDS_MAX ids under one key, and without XChaCha's extra HChaCha20
	 * per record, which is a tenth of what the daemon spends decrypting ids */
	crypto_aead_chacha20poly1305_ietf_encrypt(u + U_ID, NULL, idpad, DATASET_ID_MAX, ad, adlen,
						  NULL, u + U_NONCE, w->key);
	adlen = ds_ad(ad, &w->t, id, idlen);
	crypto_aead_xchacha20poly1305_ietf_encrypt(u + U_BODY, NULL, w->plain, plen, ad, adlen,
						   NULL, u + U_NONCE, w->key + 32);
	sodium_memzero(w->plain, plen);
	sodium_memzero(idpad, DATASET_ID_MAX);
	util_store_le32(u, (uint32_t)(U_BODY + plen + DS_TAG - 4));
	return U_BODY + plen + DS_TAG;
}

int dataset_writer_add(struct dataset_writer *w, const char *id, size_t idlen, int32_t shared_on,
		       const char *const *values, const size_t *lens, char *err, size_t errlen)
{
	struct ds_wrec *r;
	size_t ulen;
	int rc;

	if (dataset_id_check(id, idlen) < 0) {
		util_errf(err, errlen,
			  "id not of the form [A-Za-z0-9._-]{1,64} (not starting with '.')");
		return -EINVAL;
	}
	for (unsigned f = 0; f < w->t.nfields; f++)
		if (lens[f] > DATASET_VALUE_MAX) {
			util_errf(err, errlen, "value longer than %d bytes", DATASET_VALUE_MAX);
			return -EINVAL;
		}
	if (w->n >= DATASET_RECORDS_MAX) {
		util_errf(err, errlen, "too many records");
		return -EFBIG;
	}
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 1024;
		r = realloc(w->recs, nc * sizeof(*r));
		if (!r) {
			util_errf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		w->recs = r;
		w->cap = nc;
	}
	r = &w->recs[w->n];
	if (ds_wid_add(w, id, idlen, &r->idref) < 0) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ulen = ds_unit_build(w, id, idlen, values, lens);
	crypto_generichash(r->commit, 32, w->unit, ulen, NULL, 0);
	r->ulen = (uint32_t)ulen;
	r->shared_on = shared_on;
	r->bucket = w->unit[U_NONCE] % DS_BUCKETS;
	rc = ds_bucket_put(w, r->bucket, w->unit, ulen, &r->boff);
	if (rc < 0) {
		util_errf(err, errlen, "%s: writing the temporary file: %s", w->path,
			  strerror(-rc));
		return rc;
	}
	w->n++;
	return 0;
}

/* The file order: bucket by bucket, each bucket in a uniformly random order.
 * order[k] is the add index of the record at position k. */
static uint32_t *ds_writer_order(const struct dataset_writer *w, size_t start[DS_BUCKETS + 1])
{
	uint32_t *order = malloc((w->n ? w->n : 1) * sizeof(uint32_t));
	size_t fill[DS_BUCKETS];

	if (!order)
		return NULL;
	memset(start, 0, (DS_BUCKETS + 1) * sizeof(size_t));
	for (size_t i = 0; i < w->n; i++)
		start[w->recs[i].bucket + 1]++;
	for (size_t k = 0; k < DS_BUCKETS; k++)
		start[k + 1] += start[k];
	memcpy(fill, start, sizeof(fill));
	for (size_t i = 0; i < w->n; i++)
		order[fill[w->recs[i].bucket]++] = (uint32_t)i;
	/* Fisher-Yates within each bucket, with 64-bit draws (bias below 2^-40) from a
	 * ChaCha20 stream under a random key: one getrandom, not one per record */
	uint8_t seed[crypto_stream_chacha20_KEYBYTES], nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t draw[512];
	size_t left = 0, chunk = 0;

	randombytes_buf(seed, sizeof(seed));
	for (size_t k = 0; k < DS_BUCKETS; k++)
		for (size_t j = start[k + 1] - start[k]; j > 1; j--) {
			size_t x, y = start[k] + j - 1;
			uint32_t tmp;
			if (left == 0) {
				util_store_le64(nonce, chunk++);
				crypto_stream_chacha20((uint8_t *)draw, sizeof(draw), nonce, seed);
				left = sizeof(draw) / sizeof(draw[0]);
			}
			x = start[k] + (size_t)(draw[--left] % j);
			tmp = order[x];
			order[x] = order[y];
			order[y] = tmp;
		}
	sodium_memzero(seed, sizeof(seed));
	return order;
}

/* Manifest in file order, the signed header and its signature. */
static int ds_writer_sign(struct dataset_writer *w, const uint32_t *order,
			  const struct keys_secret *issuer, uint8_t **manifest, uint8_t *hdr,
			  size_t *hlen, uint8_t *sig)
{
	size_t clen = sizeof(DS_SIG_CONTEXT);
	uint8_t md[32], *msg;

	*manifest = malloc(w->n ? w->n * DS_ENTRY : 1);
	msg = malloc(clen + DS_HDR_MAX);
	if (!*manifest || !msg) {
		free(msg);
		return -ENOMEM;
	}
	for (size_t k = 0; k < w->n; k++) {
		const struct ds_wrec *r = &w->recs[order[k]];
		util_store_le32(*manifest + k * DS_ENTRY, (uint32_t)r->shared_on);
		memcpy(*manifest + k * DS_ENTRY + 4, r->commit, 32);
	}
	crypto_generichash(md, 32, *manifest, w->n * DS_ENTRY, NULL, 0);
	memcpy(w->t.issuer_keyid, issuer->id, KEYS_ID_BYTES);
	*hlen = ds_header_build(hdr, &w->t, w->n, md, w->sealed);
	memcpy(msg, DS_SIG_CONTEXT, clen);
	memcpy(msg + clen, hdr, *hlen);
	crypto_sign_detached(sig, NULL, msg, clen + *hlen, issuer->sk);
	free(msg);
	return 0;
}

/* Read bucket k back from the spool into *buf (grown as needed). */
static int ds_bucket_read(struct dataset_writer *w, unsigned k, uint8_t **buf, size_t *cap)
{
	size_t got = 0;

	if (w->b[k].total > *cap) {
		uint8_t *nb = realloc(*buf, w->b[k].total);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = w->b[k].total;
	}
	for (size_t c = 0; c < w->nchunks; c++) {
		const struct ds_chunk *ch = &w->chunks[c];
		for (size_t done = 0; ch->bucket == k && done < ch->len;) {
			ssize_t r = pread(w->fd, *buf + got + done, ch->len - done,
					  (off_t)(ch->off + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return r < 0 ? -errno : -EIO;
			done += (size_t)r;
		}
		got += ch->bucket == k ? ch->len : 0;
	}
	if (got + w->b[k].len != w->b[k].total)
		return -EIO;
	if (w->b[k].len) /* an empty bucket may have no buffer yet (*buf NULL) */
		memcpy(*buf + got, w->b[k].buf, w->b[k].len);
	return 0;
}

/* The units, bucket by bucket, in the order of order[]. */
static int ds_writer_units(struct dataset_writer *w, struct ds_sink *s, const uint32_t *order,
			   const size_t *start)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = 0;

	for (unsigned k = 0; rc == 0 && k < DS_BUCKETS; k++) {
		rc = ds_bucket_read(w, k, &buf, &cap);
		for (size_t j = start[k]; rc == 0 && j < start[k + 1]; j++) {
			const struct ds_wrec *r = &w->recs[order[j]];
			ds_sink_put(s, buf + r->boff, r->ulen);
		}
		free(w->b[k].buf); /* before the file is read back to verify it */
		w->b[k].buf = NULL;
		w->b[k].len = 0;
	}
	free(buf);
	if (rc < 0 && !s->rc) {
		util_errf(s->err, s->errlen, "%s: reading the temporary file: %s", w->path,
			  strerror(-rc));
		s->rc = rc;
	}
	return s->rc;
}

/* The ids are needed only to find duplicates: wiped before the file is written. */
static void ds_writer_forget_ids(struct dataset_writer *w)
{
	for (size_t b = 0; b < w->nidblk; b++)
		sodium_free(w->idblk[b]);
	free(w->idblk);
	w->idblk = NULL;
	w->nidblk = 0;
	sodium_free(w->slots);
	w->slots = NULL;
	w->nslots = 0;
}

int dataset_writer_finish(struct dataset_writer *w, const struct keys_secret *issuer,
			  bool overwrite, size_t *dup_first, size_t *dup, char *err, size_t errlen)
{
	uint8_t *hdr = malloc(DS_HDR_MAX), *manifest = NULL, sig[crypto_sign_BYTES], one = 1;
	struct keys_public ipub = {.kind = KEYS_ISSUER};
	struct util_out o = {.fd = -1};
	size_t start[DS_BUCKETS + 1], hlen = 0;
	uint32_t *order = NULL;
	struct ds_sink s;
	int rc = 0;

	ds_writer_forget_ids(w);
	if (w->dup != SIZE_MAX) {
		*dup_first = w->dup_first;
		*dup = w->dup;
		util_errf(err, errlen, "duplicate id");
		rc = -EEXIST;
		goto out;
	}
	order = ds_writer_order(w, start);
	if (!hdr || !order || ds_writer_sign(w, order, issuer, &manifest, hdr, &hlen, sig) < 0) {
		util_errf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = ds_sink_open(&s, &o, w->path, err, errlen);
	if (rc < 0)
		goto out;
	ds_sink_prologue(&s, hdr, hlen, sig);
	ds_sink_put(&s, manifest, w->n * DS_ENTRY);
	for (size_t i = 0; i < w->n; i++)
		ds_sink_put(&s, &one, 1);
	ds_writer_units(w, &s, order, start);
	/* free the per-record table before the file is read back to verify it */
	free(w->recs);
	w->recs = NULL;
	free(order);
	order = NULL;
	memcpy(ipub.pk, issuer->pk, 32);
	memcpy(ipub.id, issuer->id, KEYS_ID_BYTES);
	rc = ds_sink_commit(&s, &ipub, overwrite);
out:
	free(order);
	free(manifest);
	free(hdr);
	return rc;
}

void dataset_writer_free(struct dataset_writer *w)
{
	if (!w)
		return;
	ds_writer_forget_ids(w);
	sodium_free(w->key);
	sodium_free(w->plain);
	free(w->unit);
	for (size_t i = 0; i < DS_BUCKETS; i++)
		free(w->b[i].buf);
	free(w->chunks);
	free(w->recs);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
