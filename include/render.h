/* render.h — one record plus one profile into the bytes of a file, and the root
 * information file. Enforces need to know (Art. 6): only the profile's fields are
 * written, as "label: value" lines in the dataset's field order.
 *
 * A value never spans lines: backslash, line feed and carriage return inside a
 * value are written as \\, \n and \r. Output goes into a caller buffer (for
 * records: sodium_malloc'ed); like snprintf, the return value is the full length
 * even when it exceeds cap, and nothing beyond cap is written. Thread-safe. */
#ifndef PFS_RENDER_H
#define PFS_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dataset.h"

size_t render_record(const struct config *cfg, const struct dataset_terms *t,
		     const struct config_profile *p, const struct dataset_record *rec, char *out,
		     size_t cap);

/* What the root file tells a caller: in Dutch and English, their profile and
 * fields, the protocol, how many records they see and the next date on which
 * records disappear. No personal data. */
struct render_info {
	size_t visible;
	int32_t next_day; /* civil day of the next disappearance, or INT32_MAX */
};

size_t render_info(const struct config *cfg, const struct dataset_terms *t,
		   const struct config_profile *p, const struct render_info *info, char *out,
		   size_t cap);

#endif
