/* notice.c — termination notices (see notice.h). */
#include "notice.h"
#include "clock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE_MAGIC   "PFSN"
#define NOTICE_CONTEXT "protocolfs termination notice v1"
#define NOTICE_HEAD    (4 + 1 + KEYS_ID_BYTES + 4 + 8 + 1)
#define NOTICE_MAX     (NOTICE_HEAD + 255 + crypto_sign_BYTES)

/* The signed message: context string then the notice bytes before the signature. */
static size_t notice_message(uint8_t *msg, const uint8_t *blob, size_t len)
{
	memcpy(msg, NOTICE_CONTEXT, sizeof(NOTICE_CONTEXT));
	memcpy(msg + sizeof(NOTICE_CONTEXT), blob, len);
	return sizeof(NOTICE_CONTEXT) + len;
}

int notice_write(const struct keys_secret *iss, const char *protocol_id, int32_t at_day,
		 const char *path, bool overwrite, char *err, size_t errlen)
{
	uint8_t blob[NOTICE_MAX], msg[sizeof(NOTICE_CONTEXT) + NOTICE_MAX];
	char b64[sodium_base64_ENCODED_LEN(NOTICE_MAX, sodium_base64_VARIANT_ORIGINAL)];
	char comment[400], day[CLOCK_DATE_LEN];
	size_t idl = strlen(protocol_id), len;
	struct util_out o = {.fd = -1};
	int rc;

	if (idl == 0 || idl > 255) {
		util_errf(err, errlen, "protocol id must be 1 to 255 bytes");
		return -EINVAL;
	}
	memcpy(blob, NOTICE_MAGIC, 4);
	blob[4] = 1;
	memcpy(blob + 5, iss->id, KEYS_ID_BYTES);
	util_store_le32(blob + 13, (uint32_t)at_day);
	util_store_le64(blob + 17, (uint64_t)clock_now());
	blob[25] = (uint8_t)idl;
	memcpy(blob + NOTICE_HEAD, protocol_id, idl);
	len = NOTICE_HEAD + idl;
	crypto_sign_detached(blob + len, NULL, msg, notice_message(msg, blob, len), iss->sk);
	len += crypto_sign_BYTES;
	sodium_bin2base64(b64, sizeof(b64), blob, len, sodium_base64_VARIANT_ORIGINAL);
	clock_format_date(at_day, day);
	snprintf(comment, sizeof(comment),
		 "protocolfs termination notice: %s ends at the start of %s\n", protocol_id, day);
	rc = util_out_open(&o, path, 0644, err, errlen);
	if (rc == 0)
		rc = util_out_write(&o, comment, strlen(comment), err, errlen);
	if (rc == 0)
		rc = util_out_write(&o, b64, strlen(b64), err, errlen);
	if (rc == 0)
		rc = util_out_write(&o, "\n", 1, err, errlen);
	if (rc == 0)
		return util_out_commit(&o, overwrite, err, errlen);
	util_out_abort(&o);
	return rc;
}

/* Decode line 2 of a notice file into blob. */
static int notice_decode(const char *path, uint8_t *blob, size_t *len, char *err, size_t errlen)
{
	uint8_t *text = NULL;
	size_t tlen = 0;
	char *nl;
	/* read by the keeper: never follow a link, never wait (a lease, a FIFO) */
	int rc = util_read_file_flags(path, O_NOFOLLOW | O_NONBLOCK | UTIL_READ_NOT_WRITABLE, &text,
				      &tlen, 4096, err, errlen);

	if (rc < 0)
		return rc;
	nl = strchr((char *)text, '\n');
	if (!nl ||
	    sodium_base642bin(blob, NOTICE_MAX, nl + 1, strcspn(nl + 1, "\r\n"), NULL, len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    *len < NOTICE_HEAD + 1 + crypto_sign_BYTES || memcmp(blob, NOTICE_MAGIC, 4) != 0 ||
	    blob[4] != 1 || *len != NOTICE_HEAD + blob[25] + crypto_sign_BYTES) {
		util_errf(err, errlen, "%s: not a protocolfs termination notice", path);
		rc = -EBADMSG;
	}
	free(text);
	return rc;
}

int notice_read(const char *path, const struct keys_public *iss, const char *protocol_id,
		int32_t *at_day, char *err, size_t errlen)
{
	uint8_t blob[NOTICE_MAX], msg[sizeof(NOTICE_CONTEXT) + NOTICE_MAX];
	size_t len = 0, body;
	int rc = notice_decode(path, blob, &len, err, errlen);

	if (rc < 0)
		return rc;
	body = len - crypto_sign_BYTES;
	if (memcmp(blob + 5, iss->id, KEYS_ID_BYTES) != 0) {
		util_errf(err, errlen, "%s: not signed by the issuer's key", path);
		return -EKEYREJECTED;
	}
	if (crypto_sign_verify_detached(blob + body, msg, notice_message(msg, blob, body),
					iss->pk)) {
		util_errf(err, errlen, "%s: the issuer's signature does not verify", path);
		return -EBADMSG;
	}
	if (blob[25] != strlen(protocol_id) || memcmp(blob + NOTICE_HEAD, protocol_id, blob[25])) {
		util_errf(err, errlen, "%s: the notice is for another protocol", path);
		return -EINVAL;
	}
	*at_day = (int32_t)util_load_le32(blob + 13);
	return 0;
}
