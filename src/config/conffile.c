/* SPDX-License-Identifier: ISC */
/*
 * conffile.c: read a configuration file and the files it @includes into
 * one checked text for libconfig, with a map from its lines back to each
 * file's own. Only regular files, a size cap for all of them together, a
 * bounded include depth, no cycles; every file passes confscan_check().
 * libconfig never opens a file itself, and safepath opens each one: a
 * directory, FIFO or device cannot make its scanner exit() or block. No
 * logging, no libconfig here.
 */
#include "build-config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conffile.h"
#include "config/confscan.h"
#include "core/log.h"
#include "core/safepath.h"

/*
 * Room for the files, a newline after each included one, and an "L"
 * after each integer that needs 64 bits.
 */
#define TEXT_BYTES	(CONFFILE_MAX_BYTES + \
	CONFSCAN_WIDEN_MAX(CONFFILE_MAX_BYTES) + 2 * CONFSCAN_MAX_INCLUDES + 2)

/* State of one conffile_read(): the include stack and the counts. */
struct build {
	struct conffile		*cf;
	char			 dir[4096];	/* of the main file */
	struct stat		 stack[CONFFILE_MAX_DEPTH + 1];
	unsigned		 depth;
	struct confscan_totals	 totals;
	struct confscan		 scan[CONFFILE_MAX_DEPTH + 2];
	size_t			 bytes_read;	/* of all files so far */
};

static int fail(struct conffile *, const char *, unsigned, const char *, ...)
    LOG_PRINTF(4, 5);

static int
fail(struct conffile *cf, const char *file, unsigned line, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cf->error, sizeof(cf->error), fmt, ap);
	va_end(ap);
	cf->error_file = file;
	cf->error_line = line;
	return -1;
}

/*
 * Why the file cannot be configuration, or NULL: what was opened, or what
 * safepath found and did not open.
 */
static const char *
refuse(const struct stat *st, size_t room, char *buf, size_t size)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(buf, size, "is %s, not a regular file",
		    safepath_kind(st->st_mode));
		return buf;
	}
	if ((unsigned long long)st->st_size > room) {
		snprintf(buf, size, "is larger than the %d KiB that a "
		    "configuration may have, includes and all",
		    CONFFILE_MAX_BYTES / 1024);
		return buf;
	}
	return NULL;
}

/* Append the file at path to the text; *st tells which file it was. */
static int
read_into(struct build *b, const char *path, struct stat *st, char *why,
    size_t size)
{
	struct conffile	*cf = b->cf;
	size_t		 room, got = 0;
	ssize_t		 n;
	int		 fd = -1;

	room = CONFFILE_MAX_BYTES - b->bytes_read;
	if (room > TEXT_BYTES - 1 - cf->len)
		room = TEXT_BYTES - 1 - cf->len;
	/* Its author may link it anywhere; a device is never opened. */
	fd = safepath_open_read(path, SAFEPATH_FOLLOW, st);
	if (fd == -1 && errno == SAFEPATH_EKIND) {
		(void)refuse(st, room, why, size);
		return -1;
	}
	if (fd == -1)
		goto fail;
	if (refuse(st, room, why, size) != NULL)
		goto refused;
	/* Read one byte more than the room, to see a file that grew. */
	while (got <= room) {
		n = read(fd, cf->text + cf->len + got, room + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > room) {
		st->st_size = (off_t)got;
		(void)refuse(st, room, why, size);
		return -1;
	}
	cf->len += got;
	b->bytes_read += got;
	return 0;
fail:
	snprintf(why, size, "cannot open: %s", strerror(errno));
refused:
	if (fd != -1)
		close(fd);
	return -1;
}

static int
add_piece(struct conffile *cf, const char *file, unsigned line)
{
	struct conffile_piece	*p;

	p = reallocarray(cf->piece, cf->npieces + 1, sizeof(*p));
	if (p == NULL)
		return -1;
	cf->piece = p;
	p[cf->npieces].merged_line = cf->lines + 1;
	p[cf->npieces].file = file;
	p[cf->npieces].line = line;
	cf->npieces++;
	return 0;
}

static const char *
keep_name(struct conffile *cf, const char *path)
{
	char	**v, *copy;

	if ((copy = strdup(path)) == NULL)
		return NULL;
	if ((v = reallocarray(cf->files, cf->nfiles + 1, sizeof(*v))) == NULL) {
		free(copy);
		return NULL;
	}
	cf->files = v;
	cf->files[cf->nfiles++] = copy;
	return copy;
}

static unsigned
count_lines(const char *s, size_t n)
{
	const char	*end = s + n;
	unsigned	 lines = 0;

	while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		lines++;
		s++;
	}
	return lines;
}

/*
 * Append bytes [from, to) of a file's text, with an "L" after each
 * integer the scan marked, from *w on.
 */
static int
append(struct conffile *cf, const char *name, const char *text,
    size_t from, size_t to, const struct confscan *scan, size_t *w)
{
	size_t	upto;

	while (from < to) {
		upto = *w < scan->nwiden && scan->widen[*w] <= to ?
		    scan->widen[*w] : to;
		if (cf->len + (upto - from) + 1 >= TEXT_BYTES)
			return fail(cf, name, 0, "the configuration is larger "
			    "than the %d KiB it may have, includes and all",
			    CONFFILE_MAX_BYTES / 1024);
		memcpy(cf->text + cf->len, text + from, upto - from);
		cf->len += upto - from;
		cf->lines += count_lines(text + from, upto - from);
		from = upto;
		if (upto < to || (*w < scan->nwiden && scan->widen[*w] == to)) {
			cf->text[cf->len++] = 'L';
			(*w)++;
		}
	}
	return 0;
}

static int add_file(struct build *, const char *path, const char *from_file,
    unsigned from_line);

static int
include(struct build *b, const char *name, const struct confscan_include *inc)
{
	struct conffile	*cf = b->cf;
	char		 path[sizeof(b->dir) + CONFSCAN_MAX_INCLUDE_BYTES];

	if (inc->path[0] == '/')
		snprintf(path, sizeof(path), "%s", inc->path);
	else
		snprintf(path, sizeof(path), "%s%s", b->dir, inc->path);
	if (add_file(b, path, name, inc->line) == -1)
		return -1;
	if (cf->len > 0 && cf->text[cf->len - 1] != '\n') {
		cf->text[cf->len++] = '\n';
		cf->lines++;
	}
	return add_piece(cf, name, inc->line);
}

/*
 * The file was read to the end of the text, at "base": check it, then
 * put it back with each @include line replaced by the file it names.
 */
static int
expand(struct build *b, const char *name, size_t base)
{
	struct conffile		*cf = b->cf;
	struct confscan		*scan = &b->scan[b->depth];
	size_t			 i, from = 0, w = 0, size = cf->len - base;
	char			*copy;
	int			 r = 0;

	scan->widen_cap = CONFSCAN_WIDEN_MAX(size);
	if ((scan->widen = calloc(scan->widen_cap, sizeof(size_t))) == NULL ||
	    (copy = malloc(size + 1)) == NULL) {
		free(scan->widen);
		return fail(cf, name, 0, "%s", strerror(errno));
	}
	memcpy(copy, cf->text + base, size);
	if (confscan_check(copy, size, &b->totals, scan) == -1)
		r = fail(cf, name, scan->error_line, "%s", scan->error);
	cf->len = base;
	for (i = 0; r == 0 && i < scan->ninc; i++) {
		r = append(cf, name, copy, from, scan->inc[i].start, scan, &w);
		if (r == 0)
			r = include(b, name, &scan->inc[i]);
		from = scan->inc[i].end;
	}
	if (r == 0)
		r = append(cf, name, copy, from, size, scan, &w);
	free(copy);
	free(scan->widen);
	scan->widen = NULL;
	return r;
}

static int
add_file(struct build *b, const char *path, const char *from_file,
    unsigned from_line)
{
	struct conffile	*cf = b->cf;
	struct stat	 st;
	const char	*name;
	char		 why[256] = "";
	size_t		 base = cf->len, i;
	int		 r;

	if (b->depth > CONFFILE_MAX_DEPTH)
		return fail(cf, from_file, from_line, "cannot include %s: "
		    "includes are nested deeper than %d levels", path,
		    CONFFILE_MAX_DEPTH);
	errno = 0;
	if (read_into(b, path, &st, why, sizeof(why)) == -1) {
		if (from_file == NULL) {
			cf->missing = errno == ENOENT;
			return fail(cf, keep_name(cf, path), 0, "%s", why);
		}
		return fail(cf, from_file, from_line, "cannot include %s: %s",
		    path, why);
	}
	for (i = 0; i < b->depth; i++)
		if (b->stack[i].st_dev == st.st_dev &&
		    b->stack[i].st_ino == st.st_ino)
			return fail(cf, from_file, from_line, "cannot include "
			    "%s: it includes itself, directly or through "
			    "the files it includes", path);
	if ((name = keep_name(cf, path)) == NULL ||
	    add_piece(cf, name, 1) == -1)
		return fail(cf, from_file, from_line, "%s", strerror(errno));
	b->stack[b->depth++] = st;
	r = expand(b, name, base);
	b->depth--;
	return r;
}

static int
index_lines(struct conffile *cf)
{
	size_t		i;
	unsigned	n = 0;

	cf->line_start = reallocarray(NULL, cf->lines + 2,
	    sizeof(*cf->line_start));
	if (cf->line_start == NULL)
		return -1;
	cf->line_start[n++] = 0;	/* line 0: unused */
	cf->line_start[n++] = 0;
	for (i = 0; i < cf->len; i++)
		if (cf->text[i] == '\n' && n < cf->lines + 2)
			cf->line_start[n++] = (unsigned)i + 1;
	return 0;
}

/*
 * Read "path" and everything it includes (a relative name from the main
 * file's directory) into cf->text. Returns 0, or -1 with cf->error set
 * (cf->missing when the main file does not exist).
 */
int
conffile_read(struct conffile *cf, const char *path)
{
	struct build	*b;
	const char	*slash;
	int		 r = -1;

	memset(cf, 0, sizeof(*cf));
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (cf->text = malloc(TEXT_BYTES)) == NULL) {
		free(b);
		return fail(cf, path, 0, "%s", strerror(errno));
	}
	b->cf = cf;
	slash = strrchr(path, '/');
	snprintf(b->dir, sizeof(b->dir), "%.*s",
	    slash ? (int)(slash - path + 1) : 0, path);
	if (add_file(b, path, NULL, 0) == 0) {
		cf->text[cf->len] = '\0';
		r = index_lines(cf) == 0 ? 0 : fail(cf, path, 0, "%s",
		    strerror(errno));
	}
	free(b);
	return r;
}

/* Where line "merged_line" of the text comes from. */
void
conffile_where(const struct conffile *cf, unsigned merged_line,
    const char **file, unsigned *line)
{
	size_t	i, best = 0;

	for (i = 0; i < cf->npieces; i++)
		if (cf->piece[i].merged_line <= merged_line)
			best = i;
	if (cf->npieces == 0 || merged_line == 0) {
		*file = cf->npieces ? cf->piece[0].file : NULL;
		*line = 0;
		return;
	}
	*file = cf->piece[best].file;
	*line = cf->piece[best].line + merged_line -
	    cf->piece[best].merged_line;
}

void
conffile_free(struct conffile *cf)
{
	size_t	i;

	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	free(cf->piece);
	free(cf->line_start);
	free(cf->text);
	memset(cf, 0, sizeof(*cf));
}
