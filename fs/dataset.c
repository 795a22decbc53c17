/* dataset.c — the sealed dataset: writer and reader (contract in dataset.h,
 * byte layout in README.md, "Dataset format").
 *
 * Verification order is chosen so that each failure has its own message: magic and
 * header syntax, then the issuer key id (wrong key), then the signature (tampered
 * header), then the manifest digest, then the layout (flags, lengths, file size),
 * then each record body's digest, then id syntax and order. */
#include "dataset.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#define DS_MAGIC       "PFSDATA1"
#define DS_SIG_CONTEXT "protocolfs dataset signature v1"
#define DS_VERSION     1
#define DS_SUITE       1 /* Ed25519, X25519 sealed box, XChaCha20-Poly1305, BLAKE2b-256 */
#define DS_HDR_FIXED   180
#define DS_HDR_MAX     65536
#define DS_ENTRY       105
#define DS_NONCE       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define DS_TAG	       crypto_aead_xchacha20poly1305_ietf_ABYTES
#define DS_SEALED      (32 + crypto_box_SEALBYTES)
#define DS_BODY_MIN    (DS_NONCE + DS_TAG)
#define DS_BODY_MAX    (DS_NONCE + DS_TAG + DATASET_FIELDS_MAX * (2 + DATASET_VALUE_MAX))
#define DS_FILE_MAX    ((size_t)64 << 30)

/* Offsets inside a manifest entry. */
#define E_IDLEN	 0
#define E_ID	 1
#define E_SHARED 65
#define E_BLEN	 69
#define E_DIGEST 73

struct dataset {
	struct dataset_terms t;
	uint8_t *buf; /* the whole file (ciphertext only) */
	size_t len;
	size_t hdr_off, hdr_len;
	const uint8_t *manifest;
	const uint8_t *flags;
	uint64_t *body_off; /* per record; UINT64_MAX when purged */
	size_t n, npresent;
	bool signed_ok;
	struct keys_public issuer;
	uint8_t *file_key; /* sodium_malloc, after dataset_unlock */
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

static int ds_id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* Associated data of a record: uuid || serial || id. */
static size_t ds_ad(uint8_t ad[16 + 8 + DATASET_ID_MAX], const struct dataset_terms *t,
		    const char *id, size_t idlen)
{
	memcpy(ad, t->uuid, 16);
	util_store_le64(ad + 16, t->serial);
	memcpy(ad + 24, id, idlen);
	return 24 + idlen;
}

/* ---------------------------------------------------------------- header */

struct ds_buf {
	uint8_t *p;
	size_t len, cap;
};

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

/* Manifest digest, flags, body lengths and the exact file size. */
static int ds_layout_check(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	size_t moff = ds->hdr_off + ds->hdr_len + crypto_sign_BYTES;
	uint8_t md[32];
	uint64_t cur;

	if (moff + ds->n * (DS_ENTRY + 1) > ds->len) {
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
	ds->body_off = malloc((ds->n ? ds->n : 1) * sizeof(uint64_t));
	if (!ds->body_off) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	cur = moff + ds->n * (DS_ENTRY + 1);
	for (size_t i = 0; i < ds->n; i++) {
		uint32_t bl = util_load_le32(ds_entry(ds, i) + E_BLEN);
		if (ds->flags[i] > 1 || bl < DS_BODY_MIN || bl > DS_BODY_MAX) {
			util_errf(err, errlen, "%s: record %zu: malformed index entry", path,
				  i + 1);
			return -EBADMSG;
		}
		ds->body_off[i] = ds->flags[i] ? cur : UINT64_MAX;
		cur += ds->flags[i] ? bl : 0;
		ds->npresent += ds->flags[i];
	}
	if (cur != ds->len) {
		util_errf(err, errlen, "%s: file is %zu bytes, the index says %llu (%s)", path,
			  ds->len, (unsigned long long)cur,
			  cur > ds->len ? "truncated" : "extended");
		return -EBADMSG;
	}
	return 0;
}

/* Each record: id syntax and order, and the body digest. */
static int ds_records_check(struct dataset *ds, const char *path, char *err, size_t errlen)
{
	const uint8_t *prev = NULL;
	uint8_t d[32];

	for (size_t i = 0; i < ds->n; i++) {
		const uint8_t *e = ds_entry(ds, i);
		size_t il = e[E_IDLEN];
		if (il > DATASET_ID_MAX || dataset_id_check((const char *)e + E_ID, il) ||
		    (il < DATASET_ID_MAX && e[E_ID + il] != 0) ||
		    (prev && ds_id_cmp((const char *)prev + E_ID, prev[E_IDLEN],
				       (const char *)e + E_ID, il) >= 0)) {
			util_errf(err, errlen, "%s: record %zu: bad or out-of-order id", path,
				  i + 1);
			return -EBADMSG;
		}
		prev = e;
		if (ds->body_off[i] == UINT64_MAX)
			continue;
		crypto_generichash(d, 32, ds->buf + ds->body_off[i], util_load_le32(e + E_BLEN),
				   NULL, 0);
		if (sodium_memcmp(d, e + E_DIGEST, 32) != 0) {
			util_errf(
			    err, errlen,
			    "%s: record %zu (byte %llu): body does not match its signed digest",
			    path, i + 1, (unsigned long long)ds->body_off[i]);
			return -EBADMSG;
		}
	}
	return 0;
}

/* Magic, header length and header parse. */
static int ds_frame_parse(struct dataset *ds, const char *path, char *err, size_t errlen)
{
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

int dataset_open(struct dataset **out, const char *path, const struct keys_public *issuer,
		 char *err, size_t errlen)
{
	struct dataset *ds = calloc(1, sizeof(*ds));
	int rc = -ENOMEM;

	*out = NULL;
	if (!ds) {
		util_errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	rc = util_read_file(path, &ds->buf, &ds->len, DS_FILE_MAX, err, errlen);
	if (rc == 0)
		rc = ds_frame_parse(ds, path, err, errlen);
	if (rc == 0 && issuer)
		rc = ds_signature_check(ds, path, issuer, err, errlen);
	if (rc == 0)
		rc = ds_layout_check(ds, path, err, errlen);
	if (rc == 0)
		rc = ds_records_check(ds, path, err, errlen);
	if (rc < 0)
		goto fail;
	ds->signed_ok = issuer != NULL;
	if (issuer)
		ds->issuer = *issuer;
	*out = ds;
	return 0;
fail:
	dataset_close(ds);
	return rc;
}

bool dataset_signature_checked(const struct dataset *ds)
{
	return ds->signed_ok;
}

int dataset_unlock(struct dataset *ds, const struct keys_secret *rcp, char *err, size_t errlen)
{
	char want[17], got[17];
	const uint8_t *sealed = ds->buf + ds->hdr_off + 100;

	if (memcmp(rcp->id, ds->t.recipient_keyid, KEYS_ID_BYTES) != 0) {
		keys_id_hex(want, ds->t.recipient_keyid);
		keys_id_hex(got, rcp->id);
		util_errf(err, errlen,
			  "dataset is sealed for recipient key %s, but the key given is %s "
			  "(wrong recipient key)",
			  want, got);
		return -EKEYREJECTED;
	}
	if (!ds->file_key)
		ds->file_key = sodium_malloc(32);
	if (!ds->file_key) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (crypto_box_seal_open(ds->file_key, sealed, DS_SEALED, rcp->pk, rcp->sk) != 0) {
		sodium_free(ds->file_key);
		ds->file_key = NULL;
		util_errf(err, errlen,
			  "cannot open the dataset's file key with this recipient key");
		return -EKEYREJECTED;
	}
	sodium_mprotect_readonly(ds->file_key);
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
	return ds->body_off[i] != UINT64_MAX;
}

const char *dataset_record_id(const struct dataset *ds, size_t i, size_t *len)
{
	const uint8_t *e = ds_entry(ds, i);

	*len = e[E_IDLEN];
	return (const char *)e + E_ID;
}

int32_t dataset_record_shared_on(const struct dataset *ds, size_t i)
{
	return (int32_t)util_load_le32(ds_entry(ds, i) + E_SHARED);
}

int32_t dataset_record_deadline(const struct dataset *ds, size_t i)
{
	return clock_add_months(dataset_record_shared_on(ds, i), ds->t.retention_months);
}

long dataset_find(const struct dataset *ds, const char *id, size_t len)
{
	size_t lo = 0, hi = ds->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = ds_entry(ds, mid);
		int c = ds_id_cmp((const char *)e + E_ID, e[E_IDLEN], id, len);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
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

/* Split the plaintext into nfields values of u16le length + bytes. */
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
	return off == rec->len ? 0 : -EBADMSG;
}

int dataset_record_open(const struct dataset *ds, size_t i, struct dataset_record *rec, char *err,
			size_t errlen)
{
	const uint8_t *e, *body;
	uint8_t ad[16 + 8 + DATASET_ID_MAX];
	size_t blen, adlen;
	unsigned long long plen = 0;
	int rc;

	rec->len = 0;
	rec->nfields = 0;
	/* the bounds first: the manifest entry of an index past the end is not ours */
	if (i >= ds->n) {
		util_errf(err, errlen, "record %zu: out of range (%zu records)", i + 1, ds->n);
		return -ERANGE;
	}
	if (ds->body_off[i] == UINT64_MAX || !ds->file_key) {
		util_errf(err, errlen, "record %zu: %s", i + 1,
			  ds->file_key ? "purged" : "dataset not unlocked");
		return -ENOENT;
	}
	e = ds_entry(ds, i);
	blen = util_load_le32(e + E_BLEN);
	rc = ds_record_reserve(rec, blen);
	if (rc < 0) {
		util_errf(err, errlen, "record %zu: out of memory", i + 1);
		return rc;
	}
	body = ds->buf + ds->body_off[i];
	adlen = ds_ad(ad, &ds->t, (const char *)e + E_ID, e[E_IDLEN]);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(rec->buf, &plen, NULL, body + DS_NONCE,
						       blen - DS_NONCE, ad, adlen, body,
						       ds->file_key) != 0) {
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
	sodium_free(ds->file_key);
	free(ds->body_off);
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
	struct dataset *check = NULL;
	char msg[512];
	int rc = ds_sink_flush(s);

	free(s->buf);
	s->buf = NULL;
	if (rc == 0 && fsync(s->o->fd) < 0) {
		rc = -errno;
		util_errf(s->err, s->errlen, "%s: fsync failed: %s", s->o->path, strerror(errno));
	}
	if (rc == 0) {
		rc = dataset_open(&check, s->o->tmp, issuer, msg, sizeof(msg));
		if (rc < 0)
			util_errf(s->err, s->errlen, "%s: the written file does not verify: %s",
				  s->o->path, msg);
		dataset_close(check);
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
	for (size_t i = 0; i < ds->n; i++)
		if (ds->flags[i] && !drop[i])
			ds_sink_put(&s, ds->buf + ds->body_off[i],
				    util_load_le32(ds_entry(ds, i) + E_BLEN));
	return ds_sink_commit(&s, &ds->issuer, true);
}

/* ---------------------------------------------------------------- writer */

struct ds_wrec {
	uint64_t off; /* into body */
	uint32_t len;
	uint32_t add; /* add order */
	int32_t shared_on;
	uint8_t idlen;
	char id[DATASET_ID_MAX];
	uint8_t digest[32];
};

struct dataset_writer {
	struct dataset_terms t;
	uint8_t *key; /* sodium_malloc */
	uint8_t sealed[DS_SEALED];
	struct ds_wrec *recs;
	size_t n, cap;
	uint8_t *body; /* ciphertext only */
	size_t blen, bcap;
	uint8_t *plain; /* sodium_malloc scratch for one record */
};

int dataset_writer_new(struct dataset_writer **out, const struct dataset_terms *t,
		       const struct keys_public *recipient, char *err, size_t errlen)
{
	struct dataset_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w || !(w->key = sodium_malloc(32)) || !(w->plain = sodium_malloc(DS_BODY_MAX))) {
		dataset_writer_free(w);
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->t = *t;
	randombytes_buf(w->t.uuid, sizeof(w->t.uuid));
	memcpy(w->t.recipient_keyid, recipient->id, KEYS_ID_BYTES);
	crypto_aead_xchacha20poly1305_ietf_keygen(w->key);
	crypto_box_seal(w->sealed, w->key, 32, recipient->pk);
	*out = w;
	return 0;
}

static int ds_writer_grow(struct dataset_writer *w, size_t body_need)
{
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 1024;
		struct ds_wrec *r = realloc(w->recs, nc * sizeof(*r));
		if (!r)
			return -ENOMEM;
		w->recs = r;
		w->cap = nc;
	}
	if (w->blen + body_need > w->bcap) {
		size_t nc = w->bcap ? w->bcap * 2 : 1 << 20;
		while (nc < w->blen + body_need)
			nc *= 2;
		uint8_t *b = realloc(w->body, nc);
		if (!b)
			return -ENOMEM;
		w->body = b;
		w->bcap = nc;
	}
	return 0;
}

/* Serialise the values into w->plain; returns the plaintext length. */
static size_t ds_writer_pack(struct dataset_writer *w, const char *const *values,
			     const size_t *lens)
{
	size_t off = 0;

	for (unsigned f = 0; f < w->t.nfields; f++) {
		util_store_le16(w->plain + off, (uint16_t)lens[f]);
		memcpy(w->plain + off + 2, values[f], lens[f]);
		off += 2 + lens[f];
	}
	return off;
}

int dataset_writer_add(struct dataset_writer *w, const char *id, size_t idlen, int32_t shared_on,
		       const char *const *values, const size_t *lens, char *err, size_t errlen)
{
	uint8_t ad[16 + 8 + DATASET_ID_MAX], *body;
	struct ds_wrec *r;
	size_t plen, adlen;

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
	if (w->n >= DATASET_RECORDS_MAX || ds_writer_grow(w, DS_BODY_MAX) < 0) {
		util_errf(err, errlen,
			  w->n >= DATASET_RECORDS_MAX ? "too many records" : "out of memory");
		return w->n >= DATASET_RECORDS_MAX ? -EFBIG : -ENOMEM;
	}
	plen = ds_writer_pack(w, values, lens);
	r = &w->recs[w->n];
	memset(r->id, 0, sizeof(r->id));
	memcpy(r->id, id, idlen);
	r->idlen = (uint8_t)idlen;
	r->shared_on = shared_on;
	r->add = (uint32_t)w->n;
	r->off = w->blen;
	body = w->body + w->blen;
	randombytes_buf(body, DS_NONCE);
	adlen = ds_ad(ad, &w->t, id, idlen);
	crypto_aead_xchacha20poly1305_ietf_encrypt(body + DS_NONCE, NULL, w->plain, plen, ad, adlen,
						   NULL, body, w->key);
	sodium_memzero(w->plain, plen);
	r->len = (uint32_t)(DS_NONCE + plen + DS_TAG);
	crypto_generichash(r->digest, 32, body, r->len, NULL, 0);
	w->blen += r->len;
	w->n++;
	return 0;
}

static int ds_wrec_cmp(const void *a, const void *b)
{
	const struct ds_wrec *x = a, *y = b;
	int c = ds_id_cmp(x->id, x->idlen, y->id, y->idlen);

	/* Ties by add order, so a duplicate is reported at its first two occurrences. */
	return c ? c : (x->add > y->add) - (x->add < y->add);
}

static int ds_wrec_same_id(const struct ds_wrec *x, const struct ds_wrec *y)
{
	return ds_id_cmp(x->id, x->idlen, y->id, y->idlen) == 0;
}

/* Sort records by id; a duplicate gives -EEXIST with both add indices. */
static int ds_writer_sort(struct dataset_writer *w, size_t *dup_first, size_t *dup)
{
	if (w->n > 1)
		qsort(w->recs, w->n, sizeof(*w->recs), ds_wrec_cmp);
	size_t best = SIZE_MAX;

	/* Report the duplicate whose second occurrence comes first in the input. */
	for (size_t i = 1; i < w->n; i++)
		if (ds_wrec_same_id(&w->recs[i - 1], &w->recs[i]) &&
		    (best == SIZE_MAX || w->recs[i].add < w->recs[best].add) &&
		    (i < 2 || !ds_wrec_same_id(&w->recs[i - 2], &w->recs[i - 1])))
			best = i;
	if (best == SIZE_MAX)
		return 0;
	*dup_first = w->recs[best - 1].add;
	*dup = w->recs[best].add;
	return -EEXIST;
}

static void ds_writer_entry(uint8_t *e, const struct ds_wrec *r)
{
	e[E_IDLEN] = r->idlen;
	memcpy(e + E_ID, r->id, DATASET_ID_MAX);
	util_store_le32(e + E_SHARED, (uint32_t)r->shared_on);
	util_store_le32(e + E_BLEN, r->len);
	memcpy(e + E_DIGEST, r->digest, 32);
}

/* Manifest bytes (malloc) and the signed header with its signature. */
static int ds_writer_sign(struct dataset_writer *w, const struct keys_secret *issuer,
			  uint8_t **manifest, uint8_t *hdr, size_t *hlen, uint8_t *sig)
{
	size_t clen = sizeof(DS_SIG_CONTEXT);
	uint8_t md[32], *msg;

	*manifest = malloc(w->n ? w->n * DS_ENTRY : 1);
	msg = malloc(clen + DS_HDR_MAX);
	if (!*manifest || !msg) {
		free(msg);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->n; i++)
		ds_writer_entry(*manifest + i * DS_ENTRY, &w->recs[i]);
	crypto_generichash(md, 32, *manifest, w->n * DS_ENTRY, NULL, 0);
	memcpy(w->t.issuer_keyid, issuer->id, KEYS_ID_BYTES);
	*hlen = ds_header_build(hdr, &w->t, w->n, md, w->sealed);
	memcpy(msg, DS_SIG_CONTEXT, clen);
	memcpy(msg + clen, hdr, *hlen);
	crypto_sign_detached(sig, NULL, msg, clen + *hlen, issuer->sk);
	free(msg);
	return 0;
}

int dataset_writer_finish(struct dataset_writer *w, const struct keys_secret *issuer,
			  const char *path, bool overwrite, size_t *dup_first, size_t *dup,
			  char *err, size_t errlen)
{
	uint8_t *hdr = malloc(DS_HDR_MAX), *manifest = NULL, sig[crypto_sign_BYTES], one = 1;
	struct keys_public ipub = {.kind = KEYS_ISSUER};
	struct util_out o = {.fd = -1};
	struct ds_sink s;
	size_t hlen = 0;
	int rc = hdr ? ds_writer_sort(w, dup_first, dup) : -ENOMEM;

	if (rc == -EEXIST)
		util_errf(err, errlen, "duplicate id");
	if (rc == 0 && (rc = ds_writer_sign(w, issuer, &manifest, hdr, &hlen, sig)) < 0)
		util_errf(err, errlen, "out of memory");
	if (rc == -ENOMEM && !hdr)
		util_errf(err, errlen, "out of memory");
	if (rc < 0)
		goto out;
	rc = ds_sink_open(&s, &o, path, err, errlen);
	if (rc < 0)
		goto out;
	ds_sink_prologue(&s, hdr, hlen, sig);
	ds_sink_put(&s, manifest, w->n * DS_ENTRY);
	for (size_t i = 0; i < w->n; i++)
		ds_sink_put(&s, &one, 1);
	for (size_t i = 0; i < w->n; i++)
		ds_sink_put(&s, w->body + w->recs[i].off, w->recs[i].len);
	memcpy(ipub.pk, issuer->pk, 32);
	memcpy(ipub.id, issuer->id, KEYS_ID_BYTES);
	rc = ds_sink_commit(&s, &ipub, overwrite);
out:
	free(manifest);
	free(hdr);
	return rc;
}

void dataset_writer_free(struct dataset_writer *w)
{
	if (!w)
		return;
	sodium_free(w->key);
	sodium_free(w->plain);
	free(w->recs);
	free(w->body);
	free(w);
}
