/* test_render.c — record and info rendering against render.h: "label: value"
 * lines in the signed field order (not the order the profile lists them),
 * labels from [labels] with the field id as fallback, escaping of backslash, LF
 * and CR, and of every other control character but tab, empty values, the snprintf-like length
 * contract, and the exact bytes of the root information file. */
#include "config.h"
#include "render.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

#define LIT(s) (s), sizeof(s) - 1

static struct config *cfg;
static struct dataset_terms t;
static char err[1024];

/* Fields: first_name, last_name, street, note; labels for all but street. The
 * profile "clerk" lists note, first_name, street in that order; "none" lists no
 * field. */
static void setup(void)
{
	static const char *f[] = {"first_name", "last_name", "street", "note"};
	static const char *lf[] = {"note", "first_name", "last_name"};
	static const char *lv[] = {"Opmerking", "Voornaam", "Familienaam"};
	struct config_profile *p;

	cfg = calloc(1, sizeof(*cfg));
	strcpy(cfg->path, "/etc/protocolfs/t.ini");
	t.nfields = 4;
	for (unsigned i = 0; i < 4; i++)
		strcpy(t.fields[i], f[i]);
	strcpy(t.protocol_id, "PROT-2024-7");
	strcpy(t.issuer, "Agentschap");
	strcpy(t.recipient, "Stad Mechelen");
	strcpy(t.timezone, "Europe/Brussels");
	t.start_day = 19723; /* 2024-01-01 */
	t.end_day = 22279;   /* 2030-12-31 */
	cfg->nlabels = 3;
	for (unsigned i = 0; i < 3; i++) {
		strcpy(cfg->label_field[i], lf[i]);
		strcpy(cfg->label[i], lv[i]);
	}
	cfg->nprofiles = 2;
	p = &cfg->profiles[0];
	strcpy(p->name, "clerk");
	strcpy(p->description, "Loket burgerzaken");
	p->nfields = 3;
	strcpy(p->field_name[0], "note");
	strcpy(p->field_name[1], "first_name");
	strcpy(p->field_name[2], "last_name");
	strcpy(cfg->profiles[1].name, "none");
	if (config_bind(cfg, &t, err, sizeof(err)) != 0)
		printf("  setup: %s\n", err);
}

/* A record with values v[0..3] of the given lengths. */
static void record(struct dataset_record *r, const char *v[4], const size_t len[4])
{
	memset(r, 0, sizeof(*r));
	r->nfields = 4;
	for (unsigned i = 0; i < 4; i++) {
		r->value[i] = v[i];
		r->vlen[i] = len[i];
	}
}

/* Render into a buffer of cap bytes followed by guard bytes; checks the return
 * value, that the guard is untouched, and the bytes written. */
static void check_render(const struct config_profile *p, const struct dataset_record *r, size_t cap,
			 const char *want, size_t wantlen)
{
	char buf[4096];
	size_t n, keep;

	memset(buf, '#', sizeof(buf));
	n = render_record(cfg, &t, p, r, buf, cap);
	CHECK_INT(n, wantlen);
	keep = wantlen < cap ? wantlen : cap;
	CHECK(memcmp(buf, want, keep) == 0);
	if (memcmp(buf, want, keep) != 0)
		printf("  got \"%.*s\"\n", (int)keep, buf);
	for (size_t i = keep; i < keep + 64; i++)
		if (buf[i] != '#') {
			printf("  byte %zu written beyond %zu\n", i, keep);
			CHECK(buf[i] == '#');
			break;
		}
}

TEST(field_order_is_signed_order_and_labels)
{
	const char *v[4] = {"Jan", "Peeters", "Bruul 5", "geen"};
	const size_t l[4] = {3, 7, 7, 4};
	struct dataset_record r;

	record(&r, v, l);
	check_render(&cfg->profiles[0], &r, 4096,
		     LIT("Voornaam: Jan\nFamilienaam: Peeters\nOpmerking: geen\n"));
	/* the profile's indices follow the signed order, whatever it listed */
	CHECK_INT(cfg->profiles[0].field[0], 0);
	CHECK_INT(cfg->profiles[0].field[1], 1);
	CHECK_INT(cfg->profiles[0].field[2], 3);
}

TEST(label_falls_back_to_field_id)
{
	const char *v[4] = {"Jan", "Peeters", "Bruul 5", "geen"};
	const size_t l[4] = {3, 7, 7, 4};
	struct config_profile p;
	struct dataset_record r;

	memset(&p, 0, sizeof(p));
	p.nfields = 2;
	p.field[0] = 2;
	p.field[1] = 3;
	record(&r, v, l);
	check_render(&p, &r, 4096, LIT("street: Bruul 5\nOpmerking: geen\n"));
}

TEST(profile_without_fields_renders_nothing)
{
	const char *v[4] = {"Jan", "Peeters", "Bruul 5", "geen"};
	const size_t l[4] = {3, 7, 7, 4};
	struct dataset_record r;

	record(&r, v, l);
	check_render(&cfg->profiles[1], &r, 4096, "", 0);
}

TEST(empty_values)
{
	const char *v[4] = {"", "", "", ""};
	const size_t l[4] = {0, 0, 0, 0};
	struct dataset_record r;

	record(&r, v, l);
	check_render(&cfg->profiles[0], &r, 4096, LIT("Voornaam: \nFamilienaam: \nOpmerking: \n"));
}

TEST(line_breaks_and_backslashes_escaped)
{
	const char *v[4] = {"a\nb", "c\rd", "x", "\\n is not a newline\r\n\\"};
	const size_t l[4] = {3, 3, 1, 22};
	struct dataset_record r;

	record(&r, v, l);
	check_render(&cfg->profiles[0], &r, 4096,
		     LIT("Voornaam: a\\nb\nFamilienaam: c\\rd\n"
			 "Opmerking: \\\\n is not a newline\\r\\n\\\\\n"));
	/* an escape at the very start and end, and runs of them */
	{
		const char *v2[4] = {"\n\n", "\\\\", "x", "\r\r"};
		const size_t l2[4] = {2, 2, 1, 2};
		record(&r, v2, l2);
		check_render(&cfg->profiles[0], &r, 4096,
			     LIT("Voornaam: \\n\\n\nFamilienaam: \\\\\\\\\nOpmerking: \\r\\r\n"));
	}
}

TEST(control_characters_escaped_tab_kept)
{
	/* No value may drive the terminal of whoever cats the file: ESC (colours,
	 * OSC 52 clipboard writes), BEL, form feed, NUL, DEL and the C1 controls
	 * (UTF-8 C2 80..C2 9F, e.g. CSI U+009B) become \u00XX; a tab stays, and so
	 * does a character that merely starts with C2 (U+00A0, no-break space). */
	const char *v[4] = {"a\tb", "\x1b[31m\x1b]52;c;aGk=\a", "x",
			    "\xc2\x9b"
			    "2J\xc2\xa0"
			    "f\fg\0h\x7f"};
	const size_t l[4] = {3, 17, 1, 12};
	struct dataset_record r;

	record(&r, v, l);
	check_render(&cfg->profiles[0], &r, 4096,
		     LIT("Voornaam: a\tb\nFamilienaam: \\u001b[31m\\u001b]52;c;aGk=\\u0007\n"
			 "Opmerking: \\u009b2J\xc2\xa0"
			 "f\\u000cg\\u0000h\\u007f\n"));
}

TEST(length_contract_when_cap_is_short)
{
	const char *v[4] = {"Jan", "Pee\nters", "x", "geen"};
	const size_t l[4] = {3, 8, 1, 4};
	static const char full[] = "Voornaam: Jan\nFamilienaam: Pee\\nters\nOpmerking: geen\n";
	struct dataset_record r;

	record(&r, v, l);
	/* every cap from 0 to the full length, cutting through labels and escapes */
	for (size_t cap = 0; cap <= sizeof(full) - 1; cap++)
		check_render(&cfg->profiles[0], &r, cap, full, sizeof(full) - 1);
}

TEST(info_file_exact_bytes)
{
	static const char want[] =
	    "protocolfs — PROT-2024-7\n\n"
	    "Uw functieprofiel / your function profile: clerk\n"
	    "  Loket burgerzaken\n"
	    "Velden die u ziet / fields you see: Voornaam, Familienaam, Opmerking\n"
	    "\nProtocol: PROT-2024-7\n"
	    "  verstrekker / issuer:   Agentschap\n"
	    "  ontvanger / recipient:  Stad Mechelen\n"
	    "  looptijd / in force:    2024-01-01 tot en met / to 2030-12-31 (Europe/Brussels)\n"
	    "\nDossiers die u ziet / records you see: 42\n"
	    "Volgende datum waarop dossiers verdwijnen / next date records disappear: "
	    "2029-02-28\n"
	    "\nElk geopend bestand wordt gelogd (art. 6). Every file you open is logged (Art. "
	    "6).\n";
	struct render_info info = {42, 21608}; /* 2029-02-28 */
	char buf[4096];
	size_t n;

	memset(buf, '#', sizeof(buf));
	n = render_info(cfg, &t, &cfg->profiles[0], &info, buf, sizeof(buf));
	CHECK_INT(n, sizeof(want) - 1);
	CHECK(memcmp(buf, want, sizeof(want) - 1) == 0);
	if (memcmp(buf, want, sizeof(want) - 1) != 0)
		printf("  got \"%.*s\"\n", (int)n, buf);
	/* short buffer: full length returned, nothing past cap written */
	memset(buf, '#', sizeof(buf));
	CHECK_INT(render_info(cfg, &t, &cfg->profiles[0], &info, buf, 40), sizeof(want) - 1);
	CHECK(memcmp(buf, want, 40) == 0);
	CHECK(buf[40] == '#');
}

TEST(info_file_no_fields_no_deadline)
{
	static const char want[] =
	    "protocolfs — PROT-2024-7\n\n"
	    "Uw functieprofiel / your function profile: none\n"
	    "Velden die u ziet / fields you see: (geen / none)\n"
	    "\nProtocol: PROT-2024-7\n"
	    "  verstrekker / issuer:   Agentschap\n"
	    "  ontvanger / recipient:  Stad Mechelen\n"
	    "  looptijd / in force:    2024-01-01 tot en met / to 2030-12-31 (Europe/Brussels)\n"
	    "\nDossiers die u ziet / records you see: 0\n"
	    "Volgende datum waarop dossiers verdwijnen / next date records disappear: -\n"
	    "\nElk geopend bestand wordt gelogd (art. 6). Every file you open is logged (Art. "
	    "6).\n";
	/* a profile without fields sees no records, whatever the count says */
	struct render_info info = {42, INT32_MAX};
	char buf[4096];
	size_t n;

	n = render_info(cfg, &t, &cfg->profiles[1], &info, buf, sizeof(buf));
	CHECK_INT(n, sizeof(want) - 1);
	CHECK(n == sizeof(want) - 1 && memcmp(buf, want, n) == 0);
	if (n != sizeof(want) - 1 || memcmp(buf, want, n) != 0)
		printf("  got \"%.*s\"\n", (int)n, buf);
}

int main(void)
{
	setup();
	RUN(field_order_is_signed_order_and_labels);
	RUN(label_falls_back_to_field_id);
	RUN(profile_without_fields_renders_nothing);
	RUN(empty_values);
	RUN(line_breaks_and_backslashes_escaped);
	RUN(control_characters_escaped_tab_kept);
	RUN(length_contract_when_cap_is_short);
	RUN(info_file_exact_bytes);
	RUN(info_file_no_fields_no_deadline);
	config_free(cfg);
	UNIT_EXIT();
}
