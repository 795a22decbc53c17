/* service.c — load and verify what the daemon serves (see service.h). */
#include "service.h"
#include "keys.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

static int service_dataset(struct service *s, char *err, size_t errlen)
{
	const struct config *cfg = s->cfg;
	struct keys_public iss;
	struct keys_secret rcp = {0};
	int rc = keys_public_load(&iss, cfg->issuer_key, KEYS_ISSUER, err, errlen);

	if (rc == 0)
		rc = dataset_open(&s->ds, cfg->dataset, &iss, err, errlen);
	if (rc == 0)
		rc = config_bind(s->cfg, dataset_terms(s->ds), err, errlen);
	if (rc == 0)
		rc = keys_secret_load(&rcp, cfg->recipient_key, KEYS_RECIPIENT,
				      cfg->passphrase_file[0] ? cfg->passphrase_file : NULL, err,
				      errlen);
	if (rc == 0)
		rc = dataset_unlock(s->ds, &rcp, err, errlen);
	/* The recipient key is only needed to open the file key: wipe it now. */
	keys_secret_free(&rcp);
	return rc;
}

int service_open(struct service **out, const char *config_path, char *err, size_t errlen)
{
	struct service *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;

	*out = NULL;
	if (!s) {
		util_errf(err, errlen, "out of memory");
		return rc;
	}
	rc = config_load(&s->cfg, config_path, err, errlen);
	if (rc == 0)
		rc = service_dataset(s, err, errlen);
	if (rc == 0)
		rc = expiry_new(&s->exp, s->ds, err, errlen);
	if (rc < 0) {
		service_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void service_close(struct service *s)
{
	if (!s)
		return;
	expiry_free(s->exp);
	dataset_close(s->ds);
	config_free(s->cfg);
	free(s);
}
