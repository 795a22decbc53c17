/* keys.h — the two key pairs of protocolfs and their files.
 *
 * issuer:    Ed25519, the agency signs datasets and termination notices with it.
 * recipient: X25519, the city opens the dataset's file key with it.
 *
 * Files are two lines, minisign-like: a comment line saying what the key is and
 * whose, then base64 of a self-describing blob:
 *   public: "PF" kind(1: 'I' issuer, 'R' recipient) 'P' keyid[8] key[32]
 *   secret: "PF" kind 'S' kdf(1: 'N' none, 'A' Argon2id) keyid[8] salt[16]
 *           opslimit u64le memlimit u64le nonce[24] box   where box is the key
 *           material (issuer: Ed25519 sk[64]; recipient: X25519 sk[32] || pk[32]),
 *           XSalsa20-Poly1305 (secretbox) under Argon2id(passphrase, salt) when
 *           kdf is 'A' (16 bytes longer), plain when 'N'.
 * The key id is the first 8 bytes of BLAKE2b-256 of the public key; it lets a
 * reader tell "wrong key" from "tampered".
 *
 * Secret key material is held in sodium_malloc'ed memory only and wiped by
 * keys_secret_free. A passphrase is read into sodium_malloc'ed memory and wiped. */
#ifndef PFS_KEYS_H
#define PFS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_ID_BYTES 8

enum keys_kind { KEYS_ISSUER = 'I', KEYS_RECIPIENT = 'R' };

struct keys_public {
	enum keys_kind kind;
	uint8_t id[KEYS_ID_BYTES];
	uint8_t pk[32];
};

struct keys_secret {
	enum keys_kind kind;
	uint8_t id[KEYS_ID_BYTES];
	uint8_t pk[32];
	uint8_t *sk; /* sodium_malloc: 64 bytes (issuer) or 32 (recipient) */
};

/* Generate a key pair and write NAME.pub and NAME.key. The secret file is created
 * 0600; neither file is replaced unless force. With passphrase_file, the secret key
 * is protected with Argon2id + secretbox. Nothing is left behind on error. */
int keys_generate(enum keys_kind kind, const char *name, const char *passphrase_file, bool force,
		  char *err, size_t errlen);

/* Read a public key file of the given kind. */
int keys_public_load(struct keys_public *pub, const char *path, enum keys_kind kind, char *err,
		     size_t errlen);

/* Read a secret key file of the given kind; passphrase_file may be NULL. A
 * protected key without a passphrase, a wrong passphrase, the wrong kind, or a
 * public key file are each a distinct error. On success free with keys_secret_free. */
int keys_secret_load(struct keys_secret *sec, const char *path, enum keys_kind kind,
		     const char *passphrase_file, char *err, size_t errlen);
void keys_secret_free(struct keys_secret *sec);

/* Fill id with the key id of a 32-byte public key. */
void keys_id(uint8_t id[KEYS_ID_BYTES], const uint8_t pk[32]);

/* Format a key id as 16 hex digits into out[17]. */
void keys_id_hex(char out[17], const uint8_t id[KEYS_ID_BYTES]);

/* A human name for a kind: "issuer" or "recipient". */
const char *keys_kind_name(enum keys_kind kind);

#endif
