/* SPDX-License-Identifier: ISC */
/*
 * confwhere.c: where a configuration message points: the "file:line:
 * message" list of one load, and the line of each element of a list
 * setting in the file it came from. No settings, no policy: it only says
 * where, and keeps the messages.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

void
config_errorf(struct config_errors *errs, const struct where *w,
    const char *fmt, ...)
{
	char	 msg[1024], *line, **v;
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w != NULL && w->file != NULL && w->line > 0)
		r = asprintf(&line, "%s:%u: %s", w->file, w->line, msg);
	else if (w != NULL && w->file != NULL)
		r = asprintf(&line, "%s: %s", w->file, msg);
	else
		r = asprintf(&line, "%s", msg);
	if (r == -1)
		return;
	/* A hostile file has as many errors as settings: show the first. */
	if (errs->n == CONFIG_ERRORS_MAX) {
		free(line);
		r = asprintf(&line, "(more errors not shown)");
	}
	if (r == -1 || errs->n > CONFIG_ERRORS_MAX) {
		free(line);
		return;
	}
	if ((v = reallocarray(errs->v, errs->n + 1, sizeof(*v))) == NULL) {
		free(line);
		return;
	}
	errs->v = v;
	errs->v[errs->n++] = line;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* -t, -T and a bad -l: each "file:line: message" on a line of its own. */
void
config_errors_print(FILE *fp, const struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		fprintf(fp, "sockechod: %s\n", errs->v[i]);
}

/* The line of the text that holds byte "off" (lines start at 1). */
static unsigned
merged_line_of(const struct conffile *cf, size_t off)
{
	unsigned	lo = 1, hi = cf->lines + 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (cf->line_start[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Where libconfig says a list element is (see config_element_where). */
void
config_element_line(const struct where *w, const config_setting_t *e,
    struct where *ew)
{
	*ew = *w;
	if (w->cf != NULL && config_setting_source_line(e) > 0) {
		ew->merged_line = config_setting_source_line(e);
		conffile_where(w->cf, ew->merged_line, &ew->file, &ew->line);
	}
}

/*
 * libconfig gives a list element the line its parser had reached, which
 * may be past the element: find the quoted text between *cursor and the
 * end of that line, and move *cursor past it. The cursor only moves
 * forward, so a list costs one pass over the text; after a miss (an
 * escape sequence) it stops looking and libconfig's line stands.
 */
void
config_element_where(struct where *ew, const char *text, size_t *cursor)
{
	const struct conffile	*cf = ew->cf;
	const char		*hit;
	size_t			 end, n = strlen(text);

	if (cf == NULL || *cursor >= cf->len || ew->merged_line > cf->lines + 1)
		return;
	end = ew->merged_line <= cf->lines ? cf->line_start[ew->merged_line + 1] :
	    cf->len;
	while (*cursor < end && (hit = memchr(cf->text + *cursor, '"',
	    end - *cursor)) != NULL) {
		*cursor = (size_t)(hit - cf->text) + 1;
		if (cf->len - *cursor > n && memcmp(hit + 1, text, n) == 0 &&
		    hit[n + 1] == '"') {
			conffile_where(cf, merged_line_of(cf, *cursor),
			    &ew->file, &ew->line);
			*cursor += n + 1;
			return;
		}
	}
	*cursor = cf->len;
}
