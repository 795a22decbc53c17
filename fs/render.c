/* render.c — record and info file rendering (see render.h). */
#include "render.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct render_out {
	char *p;
	size_t cap, len;
};

static void render_put(struct render_out *o, const char *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, o->len + n <= o->cap ? n : o->cap - o->len);
	o->len += n;
}

/* The escape for the character at v[i] (n bytes left), its length in *len, or
 * NULL to copy it as is. Line breaks and backslashes keep one field on one line;
 * every other control character (C0 but tab, DEL, and C1 U+0080..U+009F, which
 * UTF-8 writes as C2 80..C2 9F) becomes \u00XX, so no value can drive the
 * terminal of the staff member who cats the file (colours, cursor moves, window
 * titles, OSC 52 clipboard writes). */
static const char *render_escape(const unsigned char *v, size_t n, size_t i, size_t *len,
				 char buf[8])
{
	unsigned c = v[i];

	*len = 1;
	if (c == '\n')
		return "\\n";
	if (c == '\r')
		return "\\r";
	if (c == '\\')
		return "\\\\";
	if ((c < 0x20 && c != '\t') || c == 0x7f) {
		snprintf(buf, 8, "\\u%04x", c);
		return buf;
	}
	if (c == 0xc2 && i + 1 < n && v[i + 1] >= 0x80 && v[i + 1] <= 0x9f) {
		*len = 2;
		snprintf(buf, 8, "\\u%04x", v[i + 1]);
		return buf;
	}
	return NULL;
}

/* A value with its line breaks, backslashes and control characters escaped. */
static void render_value(struct render_out *o, const char *v, size_t n)
{
	const unsigned char *u = (const unsigned char *)v;
	size_t run = 0, len;
	char buf[8];

	for (size_t i = 0; i < n; i++) {
		const char *esc = render_escape(u, n, i, &len, buf);
		if (!esc)
			continue;
		render_put(o, v + run, i - run);
		render_put(o, esc, strlen(esc));
		i += len - 1;
		run = i + 1;
	}
	render_put(o, v + run, n - run);
}

size_t render_record(const struct config *cfg, const struct dataset_terms *t,
		     const struct config_profile *p, const struct dataset_record *rec, char *out,
		     size_t cap)
{
	struct render_out o = {out, cap, 0};

	for (unsigned i = 0; i < p->nfields; i++) {
		unsigned f = p->field[i];
		const char *label = config_label(cfg, t, f);
		render_put(&o, label, strlen(label));
		render_put(&o, ": ", 2);
		render_value(&o, rec->value[f], rec->vlen[f]);
		render_put(&o, "\n", 1);
	}
	return o.len;
}

static void render_printf(struct render_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void render_printf(struct render_out *o, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		render_put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void render_fields(struct render_out *o, const struct config *cfg,
			  const struct dataset_terms *t, const struct config_profile *p)
{
	if (p->nfields == 0)
		render_printf(o, " (geen / none)");
	for (unsigned i = 0; i < p->nfields; i++)
		render_printf(o, "%s %s", i ? "," : "", config_label(cfg, t, p->field[i]));
	render_printf(o, "\n");
}

size_t render_info(const struct config *cfg, const struct dataset_terms *t,
		   const struct config_profile *p, const struct render_info *info, char *out,
		   size_t cap)
{
	struct render_out o = {out, cap, 0};
	char a[CLOCK_DATE_LEN], b[CLOCK_DATE_LEN], next[CLOCK_DATE_LEN] = "-";

	clock_format_date(t->start_day, a);
	clock_format_date(t->end_day, b);
	if (info->next_day != INT32_MAX)
		clock_format_date(info->next_day, next);
	render_printf(&o, "protocolfs — %s\n\n", t->protocol_id);
	render_printf(&o, "Uw functieprofiel / your function profile: %s\n", p->name);
	if (p->description[0])
		render_printf(&o, "  %s\n", p->description);
	render_printf(&o, "Velden die u ziet / fields you see:");
	render_fields(&o, cfg, t, p);
	render_printf(&o, "\nProtocol: %s\n", t->protocol_id);
	render_printf(&o, "  verstrekker / issuer:   %s\n", t->issuer);
	render_printf(&o, "  ontvanger / recipient:  %s\n", t->recipient);
	render_printf(&o, "  looptijd / in force:    %s tot en met / to %s (%s)\n", a, b,
		      t->timezone);
	render_printf(&o, "\nDossiers die u ziet / records you see: %zu\n",
		      p->nfields ? info->visible : 0);
	render_printf(&o,
		      "Volgende datum waarop dossiers verdwijnen / next date records "
		      "disappear: %s\n",
		      next);
	render_printf(&o, "\nElk geopend bestand wordt gelogd (art. 6). "
			  "Every file you open is logged (Art. 6).\n");
	return o.len;
}
