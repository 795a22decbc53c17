/* notice.h — the issuer's termination notice (Art. 8: the issuer may end the
 * protocol unilaterally; Art. 12: notice by either party). A notice names the
 * protocol and the civil date from whose start nothing may be shown; it is
 * signed with the issuer's key alone.
 *
 * File: a comment line, then base64 of
 *   "PFSN" version(1) issuer keyid[8] at_day i32 issued_at i64 id_len u8 id
 *   signature[64] (Ed25519 over "protocolfs termination notice v1\0" || the rest) */
#ifndef PFS_NOTICE_H
#define PFS_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/* Write a notice for protocol_id taking effect at the start of civil day at_day
 * (all-or-nothing; an existing file is replaced only with overwrite). */
int notice_write(const struct keys_secret *issuer, const char *protocol_id, int32_t at_day,
		 const char *path, bool overwrite, char *err, size_t errlen);

/* Read and check a notice: signed by issuer (-EKEYREJECTED / -EBADMSG when not),
 * for protocol_id (-EINVAL when for another). On success *at_day is its date. */
int notice_read(const char *path, const struct keys_public *issuer, const char *protocol_id,
		int32_t *at_day, char *err, size_t errlen);

#endif
