/* keys.c — key generation and key files (see keys.h for the format).
 *
 * Guarantees: secret key bytes and passphrases exist only in sodium_malloc'ed
 * memory or in buffers wiped before release; a secret key file is created 0600 in
 * one step (temp file, fsync, link/rename); a mix-up of kinds (public for secret,
 * issuer for recipient) is reported as such, not as a bad file. */
#include "keys.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_MAGIC0   'P'
#define KEYS_MAGIC1   'F'
#define PUB_BLOB      (4 + KEYS_ID_BYTES + 32)
#define SEC_HEAD      (5 + KEYS_ID_BYTES + 16 + 8 + 8 + 24)
#define SEC_MAX_PLAIN 64
#define SEC_MAX_BLOB  (SEC_HEAD + SEC_MAX_PLAIN + crypto_secretbox_MACBYTES)
#define PASS_MAX      1024

static size_t keys_plain_len(enum keys_kind kind)
{
	return kind == KEYS_ISSUER ? crypto_sign_SECRETKEYBYTES : 64;
}

const char *keys_kind_name(enum keys_kind kind)
{
	return kind == KEYS_ISSUER ? "issuer" : "recipient";
}

void keys_id(uint8_t id[KEYS_ID_BYTES], const uint8_t pk[32])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), pk, 32, NULL, 0);
	memcpy(id, h, KEYS_ID_BYTES);
}

void keys_id_hex(char out[17], const uint8_t id[KEYS_ID_BYTES])
{
	sodium_bin2hex(out, 17, id, KEYS_ID_BYTES);
}

/* Read the first line of a passphrase file into sodium_malloc'ed memory. */
static int keys_passphrase_read(const char *path, char **pass, size_t *len, char *err,
				size_t errlen)
{
	char *buf = sodium_malloc(PASS_MAX + 1);
	size_t got = 0;
	int fd = -1, rc = 0;

	*pass = NULL;
	if (!buf) {
		util_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, PASS_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			util_errf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > PASS_MAX) {
			rc = -EINVAL;
			util_errf(err, errlen, "%s: passphrase file longer than %d bytes", path,
				  PASS_MAX);
			goto out;
		}
	}
	buf[got] = 0;
	got = strcspn(buf, "\r\n");
	buf[got] = 0;
	if (got == 0) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: empty passphrase", path);
		goto out;
	}
	*pass = buf;
	*len = got;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	return rc;
}

/* Derive the secretbox key from a passphrase file into key[32]. */
static int keys_kdf(uint8_t key[32], const char *pass_file, const uint8_t salt[16], uint64_t ops,
		    uint64_t mem, char *err, size_t errlen)
{
	char *pass = NULL;
	size_t plen = 0;
	int rc = keys_passphrase_read(pass_file, &pass, &plen, err, errlen);

	if (rc < 0)
		return rc;
	if (crypto_pwhash(key, 32, pass, plen, salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = -ENOMEM;
		util_errf(err, errlen, "%s: key derivation failed (out of memory)", pass_file);
	}
	sodium_free(pass);
	return rc;
}

/* Write "comment\nbase64\n" for blob to an open output. */
static int keys_file_write(struct util_out *o, const char *comment, const uint8_t *blob,
			   size_t blen, char *err, size_t errlen)
{
	size_t b64len = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = sodium_malloc(b64len + 1);
	int rc;

	if (!b64) {
		util_errf(err, errlen, "%s: out of memory", o->path);
		return -ENOMEM;
	}
	sodium_bin2base64(b64, b64len, blob, blen, sodium_base64_VARIANT_ORIGINAL);
	rc = util_out_write(o, comment, strlen(comment), err, errlen);
	if (rc == 0)
		rc = util_out_write(o, "\n", 1, err, errlen);
	if (rc == 0)
		rc = util_out_write(o, b64, strlen(b64), err, errlen);
	if (rc == 0)
		rc = util_out_write(o, "\n", 1, err, errlen);
	sodium_free(b64);
	return rc;
}

static const char *keys_basename(const char *name)
{
	const char *s = strrchr(name, '/');
	return s ? s + 1 : name;
}

/* Build the secret blob: header, then the key material, sealed under the
 * passphrase when one is given. blob is sodium_malloc'ed by the caller. */
static int keys_secret_blob(uint8_t *blob, size_t *blen, enum keys_kind kind, const uint8_t *id,
			    const uint8_t *plain, const char *pass_file, char *err, size_t errlen)
{
	size_t plen = keys_plain_len(kind);
	uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE, mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	uint8_t *salt = blob + 5 + KEYS_ID_BYTES, *nonce = salt + 16 + 16, *box = blob + SEC_HEAD;
	uint8_t *k = NULL;
	int rc = 0;

	memset(blob, 0, SEC_HEAD);
	blob[0] = KEYS_MAGIC0, blob[1] = KEYS_MAGIC1, blob[2] = (uint8_t)kind, blob[3] = 'S';
	blob[4] = pass_file ? 'A' : 'N';
	memcpy(blob + 5, id, KEYS_ID_BYTES);
	if (!pass_file) {
		memcpy(box, plain, plen);
		*blen = SEC_HEAD + plen;
		return 0;
	}
	randombytes_buf(salt, 16);
	randombytes_buf(nonce, 24);
	util_store_le64(salt + 16, ops);
	util_store_le64(salt + 24, mem);
	k = sodium_malloc(32);
	if (!k)
		return -ENOMEM;
	rc = keys_kdf(k, pass_file, salt, ops, mem, err, errlen);
	if (rc == 0) {
		crypto_secretbox_easy(box, plain, plen, nonce, k);
		*blen = SEC_HEAD + plen + crypto_secretbox_MACBYTES;
	}
	sodium_free(k);
	return rc;
}

/* Fill plain (sodium_malloc'ed, 64 bytes) and pk with a fresh key pair. */
static void keys_pair_new(enum keys_kind kind, uint8_t *plain, uint8_t pk[32])
{
	if (kind == KEYS_ISSUER) {
		crypto_sign_keypair(pk, plain);
	} else {
		crypto_box_keypair(pk, plain);
		memcpy(plain + 32, pk, 32);
	}
}

static int keys_path(char *out, size_t outlen, const char *name, const char *ext, char *err,
		     size_t errlen)
{
	int n = snprintf(out, outlen, "%s%s", name, ext);

	if (n < 0 || (size_t)n >= outlen) {
		util_errf(err, errlen, "%s: name too long", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Write one key file to a temp file next to path (not yet placed). */
static int keys_out_prepare(struct util_out *o, const char *path, int mode, const char *comment,
			    const uint8_t *blob, size_t blen, char *err, size_t errlen)
{
	int rc = util_out_open(o, path, mode, err, errlen);

	if (rc == 0)
		rc = keys_file_write(o, comment, blob, blen, err, errlen);
	if (rc < 0)
		util_out_abort(o);
	return rc;
}

/* Existing targets must be regular files (and only with force), so that placing
 * the pair cannot fail half-way on a folder or device in the way. */
static int keys_targets_check(const char *pubpath, const char *secpath, bool force, char *err,
			      size_t errlen)
{
	const char *paths[2] = {secpath, pubpath};
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (lstat(paths[i], &st) < 0)
			continue;
		if (!force || !S_ISREG(st.st_mode)) {
			util_errf(err, errlen, "%s: %s", paths[i],
				  force ? "exists and is not a regular file"
					: "key file exists (use --force to overwrite)");
			return -EEXIST;
		}
	}
	return 0;
}

int keys_generate(enum keys_kind kind, const char *name, const char *pass_file, bool force,
		  char *err, size_t errlen)
{
	uint8_t pk[32], id[KEYS_ID_BYTES], pub[PUB_BLOB];
	uint8_t *plain = sodium_malloc(SEC_MAX_PLAIN), *blob = sodium_malloc(SEC_MAX_BLOB);
	char pubpath[4096], secpath[4096], comment[512];
	struct util_out so = {.fd = -1}, po = {.fd = -1};
	size_t blen = 0;
	int rc = -ENOMEM;

	if (!plain || !blob) {
		util_errf(err, errlen, "out of memory");
		goto out;
	}
	rc = keys_path(pubpath, sizeof(pubpath), name, ".pub", err, errlen);
	if (rc == 0)
		rc = keys_path(secpath, sizeof(secpath), name, ".key", err, errlen);
	if (rc == 0)
		rc = keys_targets_check(pubpath, secpath, force, err, errlen);
	if (rc < 0)
		goto out;
	keys_pair_new(kind, plain, pk);
	keys_id(id, pk);
	rc = keys_secret_blob(blob, &blen, kind, id, plain, pass_file, err, errlen);
	if (rc < 0)
		goto out;
	snprintf(comment, sizeof(comment), "protocolfs %s secret key: %s%s", keys_kind_name(kind),
		 keys_basename(name), pass_file ? " (passphrase-protected)" : "");
	rc = keys_out_prepare(&so, secpath, 0600, comment, blob, blen, err, errlen);
	if (rc < 0)
		goto out;
	pub[0] = KEYS_MAGIC0, pub[1] = KEYS_MAGIC1, pub[2] = (uint8_t)kind, pub[3] = 'P';
	memcpy(pub + 4, id, KEYS_ID_BYTES);
	memcpy(pub + 4 + KEYS_ID_BYTES, pk, 32);
	snprintf(comment, sizeof(comment), "protocolfs %s public key: %s", keys_kind_name(kind),
		 keys_basename(name));
	rc = keys_out_prepare(&po, pubpath, 0644, comment, pub, sizeof(pub), err, errlen);
	if (rc < 0) {
		util_out_abort(&so);
		goto out;
	}
	/* Both files are complete on disk: now place them, secret first. */
	rc = util_out_commit(&so, force, err, errlen);
	if (rc == 0)
		rc = util_out_commit(&po, force, err, errlen);
	else
		util_out_abort(&po);
	if (rc < 0 && !force)
		unlink(secpath); /* no half pair left behind */
out:
	sodium_free(plain);
	sodium_free(blob);
	return rc;
}

/* Read a key file and decode its second line into blob (sodium_malloc'ed by the
 * caller, cap bytes). */
static int keys_file_decode(const char *path, uint8_t *blob, size_t cap, size_t *blen, char *err,
			    size_t errlen)
{
	uint8_t *text = NULL;
	size_t tlen = 0;
	char *nl, *b64;
	int rc = util_read_file(path, &text, &tlen, 8192, err, errlen);

	if (rc < 0)
		return rc;
	nl = strchr((char *)text, '\n');
	if (!nl || strncmp((char *)text, "protocolfs ", 11) != 0) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: not a protocolfs key file (line 1)", path);
		goto out;
	}
	b64 = nl + 1;
	b64[strcspn(b64, "\r\n")] = 0;
	if (sodium_base642bin(blob, cap, b64, strlen(b64), NULL, blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    *blen < 4 || blob[0] != KEYS_MAGIC0 || blob[1] != KEYS_MAGIC1) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: line 2: not a valid protocolfs key", path);
	}
out:
	sodium_memzero(text, tlen);
	free(text);
	return rc;
}

/* Check the kind and public/secret letters of a decoded blob. */
static int keys_blob_check(const char *path, const uint8_t *blob, enum keys_kind want, char want_ps,
			   char *err, size_t errlen)
{
	enum keys_kind got = (enum keys_kind)blob[2];

	if (got != KEYS_ISSUER && got != KEYS_RECIPIENT) {
		util_errf(err, errlen, "%s: line 2: unknown key kind", path);
		return -EINVAL;
	}
	if (blob[3] != want_ps) {
		util_errf(err, errlen, "%s: this is %s %s key; a %s key is needed here", path,
			  got == KEYS_ISSUER ? "an issuer" : "a recipient",
			  blob[3] == 'P' ? "public" : "secret",
			  want_ps == 'P' ? "public" : "secret");
		return -EINVAL;
	}
	if (got != want) {
		util_errf(err, errlen, "%s: this is %s key; %s key is needed here", path,
			  got == KEYS_ISSUER ? "an issuer" : "a recipient",
			  want == KEYS_ISSUER ? "an issuer" : "a recipient");
		return -EINVAL;
	}
	return 0;
}

int keys_public_load(struct keys_public *pub, const char *path, enum keys_kind kind, char *err,
		     size_t errlen)
{
	uint8_t blob[SEC_MAX_BLOB], id[KEYS_ID_BYTES];
	size_t blen = 0;
	int rc = keys_file_decode(path, blob, sizeof(blob), &blen, err, errlen);

	if (rc == 0)
		rc = keys_blob_check(path, blob, kind, 'P', err, errlen);
	if (rc == 0 && blen != PUB_BLOB) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: line 2: wrong length for a public key", path);
	}
	if (rc == 0) {
		pub->kind = kind;
		memcpy(pub->id, blob + 4, KEYS_ID_BYTES);
		memcpy(pub->pk, blob + 4 + KEYS_ID_BYTES, 32);
		keys_id(id, pub->pk);
		if (memcmp(id, pub->id, KEYS_ID_BYTES) != 0) {
			rc = -EINVAL;
			util_errf(err, errlen, "%s: key id does not match the key (damaged file)",
				  path);
		}
	}
	sodium_memzero(blob, sizeof(blob));
	return rc;
}

/* Open the key material of a decoded secret blob into plain[64]. */
static int keys_secret_open(const char *path, const uint8_t *blob, size_t blen, uint8_t *plain,
			    enum keys_kind kind, const char *pass_file, char *err, size_t errlen)
{
	size_t plen = keys_plain_len(kind);
	const uint8_t *salt = blob + 5 + KEYS_ID_BYTES, *nonce = salt + 32;
	uint64_t ops = util_load_le64(salt + 16), mem = util_load_le64(salt + 24);
	uint8_t *k = NULL;
	int rc = 0;

	if (blob[4] == 'N') {
		if (blen != SEC_HEAD + plen)
			goto bad_len;
		memcpy(plain, blob + SEC_HEAD, plen);
		return 0;
	}
	if (blob[4] != 'A')
		goto bad_len;
	if (blen != SEC_HEAD + plen + crypto_secretbox_MACBYTES)
		goto bad_len;
	if (!pass_file) {
		util_errf(err, errlen, "%s: key is passphrase-protected: give --passphrase-file",
			  path);
		return -EACCES;
	}
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		goto bad_len;
	k = sodium_malloc(32);
	if (!k)
		return -ENOMEM;
	rc = keys_kdf(k, pass_file, salt, ops, mem, err, errlen);
	if (rc == 0 &&
	    crypto_secretbox_open_easy(plain, blob + SEC_HEAD, plen + crypto_secretbox_MACBYTES,
				       nonce, k) != 0) {
		rc = -EACCES;
		util_errf(err, errlen, "%s: wrong passphrase (or damaged key file)", path);
	}
	sodium_free(k);
	return rc;
bad_len:
	util_errf(err, errlen, "%s: line 2: malformed secret key", path);
	return -EINVAL;
}

/* The public key derived from the secret part of the key material (the Ed25519
 * seed, the X25519 scalar), so that a damaged secret is caught by the key id
 * check. -EINVAL when the stored public half disagrees with it. */
static int keys_secret_pk(enum keys_kind kind, const uint8_t *plain, uint8_t pk[32])
{
	uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	int rc = 0;

	if (!sk)
		return -ENOMEM;
	if (kind == KEYS_ISSUER)
		crypto_sign_seed_keypair(pk, sk, plain);
	else
		crypto_scalarmult_base(pk, plain);
	if (sodium_memcmp(pk, plain + 32, 32) != 0)
		rc = -EINVAL;
	sodium_free(sk);
	return rc;
}

int keys_secret_load(struct keys_secret *sec, const char *path, enum keys_kind kind,
		     const char *pass_file, char *err, size_t errlen)
{
	uint8_t *blob = sodium_malloc(SEC_MAX_BLOB), *plain = sodium_malloc(SEC_MAX_PLAIN);
	uint8_t id[KEYS_ID_BYTES];
	size_t blen = 0;
	int rc = -ENOMEM;

	memset(sec, 0, sizeof(*sec));
	if (!blob || !plain) {
		util_errf(err, errlen, "out of memory");
		goto out;
	}
	rc = keys_file_decode(path, blob, SEC_MAX_BLOB, &blen, err, errlen);
	if (rc == 0)
		rc = keys_blob_check(path, blob, kind, 'S', err, errlen);
	if (rc == 0 && blen < SEC_HEAD) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: line 2: malformed secret key", path);
	}
	if (rc == 0)
		rc = keys_secret_open(path, blob, blen, plain, kind, pass_file, err, errlen);
	if (rc < 0)
		goto out;
	rc = keys_secret_pk(kind, plain, sec->pk);
	keys_id(id, sec->pk);
	if (rc < 0 || sodium_memcmp(id, blob + 5, KEYS_ID_BYTES) != 0) {
		rc = -EINVAL;
		util_errf(err, errlen, "%s: key id does not match the key (damaged file)", path);
		goto out;
	}
	sec->kind = kind;
	memcpy(sec->id, id, KEYS_ID_BYTES);
	sodium_mprotect_readonly(plain);
	sec->sk = plain;
	plain = NULL;
out:
	sodium_free(blob);
	sodium_free(plain);
	return rc;
}

void keys_secret_free(struct keys_secret *sec)
{
	sodium_free(sec->sk); /* sodium_free wipes before unmapping */
	memset(sec, 0, sizeof(*sec));
}
