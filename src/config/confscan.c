/* SPDX-License-Identifier: ISC */
/*
 * confscan.c: check the text of one configuration file before libconfig
 * sees it, with libconfig 1.5's own lexical rules: valid UTF-8 without NUL
 * bytes, closed strings and comments, bounded nesting, token lengths and
 * counts, integers that libconfig stores exactly; and find its @include
 * lines. Pure: no files, no allocation, no logging.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/confscan.h"
#include "core/log.h"

struct scanner {
	const char		*text;
	size_t			 len;
	size_t			 pos;
	unsigned		 line;
	unsigned		 depth;
	size_t			 name;		/* the last name seen */
	size_t			 name_len;
	struct confscan_totals	*totals;
	struct confscan		*out;
};

static int fail(struct scanner *, const char *, ...) LOG_PRINTF(2, 3);

static int
fail(struct scanner *sc, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(sc->out->error, sizeof(sc->out->error), fmt, ap);
	va_end(ap);
	sc->out->error_line = sc->line;
	return -1;
}

static int
at(const struct scanner *sc, size_t off)
{
	return sc->pos + off < sc->len ?
	    (unsigned char)sc->text[sc->pos + off] : -1;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_name(int c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*' ||
	    (!first && (is_digit(c) || c == '-' || c == '_'));
}

/* The length of the UTF-8 sequence at s, or 0 if it is not valid. */
static size_t
utf8_length(const unsigned char *s, size_t left)
{
	uint32_t	cp;
	size_t		n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
check_bytes(struct scanner *sc)
{
	const unsigned char	*s = (const unsigned char *)sc->text;
	size_t			 i = 0, n;

	while (i < sc->len) {
		if (s[i] == '\0')
			return fail(sc, "contains a NUL byte");
		if ((n = utf8_length(s + i, sc->len - i)) == 0)
			return fail(sc, "is not valid UTF-8 (byte 0x%02x)", s[i]);
		if (s[i] == '\n')
			sc->line++;
		i += n;
	}
	sc->line = 1;
	return 0;
}

static int
token_end(struct scanner *sc, size_t start)
{
	if (sc->pos - start > CONFSCAN_MAX_TOKEN_BYTES)
		return fail(sc, "a name, string or number is longer than %d "
		    "bytes", CONFSCAN_MAX_TOKEN_BYTES);
	return 0;
}

static int
skip_block_comment(struct scanner *sc)
{
	unsigned	first = sc->line;

	sc->pos += 2;
	for (; sc->pos < sc->len; sc->pos++) {
		if (sc->text[sc->pos] == '\n')
			sc->line++;
		else if (at(sc, 0) == '*' && at(sc, 1) == '/') {
			sc->pos += 2;
			return 0;
		}
	}
	sc->line = first;
	return fail(sc, "the comment is never closed with */");
}

static void
skip_line_comment(struct scanner *sc)
{
	while (sc->pos < sc->len && sc->text[sc->pos] != '\n')
		sc->pos++;
}

static int
hex_value(int c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int
scan_string(struct scanner *sc)
{
	size_t		start = sc->pos++;
	unsigned	first = sc->line;
	int		c;

	while ((c = at(sc, 0)) != '"') {
		if (c == -1) {
			sc->line = first;
			return fail(sc, "the string is never closed with \"");
		}
		if (c == '\n')
			sc->line++;
		if (c == '\\' && (at(sc, 1) | 0x20) == 'x' &&
		    is_xdigit(at(sc, 2)) && is_xdigit(at(sc, 3))) {
			if (hex_value(at(sc, 2)) == 0 && hex_value(at(sc, 3)) == 0)
				return fail(sc, "a string must not contain a "
				    "NUL byte (\\x00)");
			sc->pos += 3;
		} else if (c == '\\' && at(sc, 1) != -1 &&
		    strchr("nrtf\\\"", at(sc, 1)) != NULL)
			sc->pos++;
		sc->pos++;
	}
	sc->pos++;
	return token_end(sc, start);
}

static size_t
digits(const struct scanner *sc, size_t off)
{
	size_t	n = 0;

	while (is_digit(at(sc, off + n)))
		n++;
	return n;
}

/* An exponent [eE][-+]?[0-9]+ at off: its length, or 0. */
static size_t
exponent(const struct scanner *sc, size_t off)
{
	size_t	sign, n;

	if ((at(sc, off) | 0x20) != 'e')
		return 0;
	sign = at(sc, off + 1) == '-' || at(sc, off + 1) == '+';
	n = digits(sc, off + 1 + sign);
	return n > 0 ? 1 + sign + n : 0;
}

/* The longest match of libconfig's float pattern at the position, or 0. */
static size_t
float_length(const struct scanner *sc, size_t sign)
{
	size_t	whole = digits(sc, sign), frac, best = 0, e;

	if (at(sc, sign + whole) == '.') {
		frac = digits(sc, sign + whole + 1);
		e = exponent(sc, sign + whole + 1 + frac);
		best = sign + whole + 1 + frac + e;
	}
	if (whole > 0 && (e = exponent(sc, sign + whole)) > 0 &&
	    sign + whole + e > best)
		best = sign + whole + e;
	return best;
}

static size_t
l_suffix(const struct scanner *sc, size_t off)
{
	if (at(sc, off) != 'L')
		return 0;
	return at(sc, off + 1) == 'L' ? 2 : 1;
}

/*
 * Debian's libconfig 1.5 keeps an integer without "L" in 32 bits and one
 * with "L" in 64, wrapping what does not fit: refuse those literals, so
 * that the value it stores is the value written.
 */
static int
too_big(struct scanner *sc, size_t len)
{
	int	n = len > 40 ? 40 : (int)len, name = (int)sc->name_len;

	if (name > 64)
		name = 64;
	return fail(sc, "%.*s%s%.*s does not fit in 64 bits", name,
	    sc->text + sc->name, name ? ": " : "", n, sc->text + sc->pos);
}

/*
 * Debian's libconfig 1.5 keeps an integer without "L" in 32 bits,
 * wrapping what does not fit: such a literal is marked for an "L" after
 * its digits (confscan.widen), one beyond 64 bits is refused. So the
 * value libconfig stores is the value written.
 */
static int
check_integer(struct scanner *sc, size_t sign, size_t ndig, int base,
    size_t suffix)
{
	uint64_t	limit = INT64_MAX, v = 0, d;
	size_t		i, first = sign + (base == 16 ? 2 : 0);
	bool		negative = at(sc, 0) == '-';

	if (negative)
		limit++;
	for (i = 0; i < ndig; i++) {
		d = (uint64_t)hex_value(at(sc, first + i));
		if (v > (limit - d) / (uint64_t)base)
			return too_big(sc, first + ndig + suffix);
		v = v * (uint64_t)base + d;
	}
	if (suffix == 0 && v > (negative ? (uint64_t)INT32_MAX + 1 : INT32_MAX)) {
		if (sc->out->nwiden == sc->out->widen_cap)
			return fail(sc, "too many 64-bit integers");
		sc->out->widen[sc->out->nwiden++] = sc->pos + first + ndig;
	}
	return 0;
}

static int
scan_number(struct scanner *sc)
{
	size_t	start = sc->pos, sign, ndig, flen, ilen, suffix;

	sign = at(sc, 0) == '-' || at(sc, 0) == '+';
	if (!sign && at(sc, 0) == '0' && (at(sc, 1) | 0x20) == 'x' &&
	    is_xdigit(at(sc, 2))) {
		for (ndig = 0; is_xdigit(at(sc, 2 + ndig)); ndig++)
			continue;
		suffix = l_suffix(sc, 2 + ndig);
		if (check_integer(sc, 0, ndig, 16, suffix) == -1)
			return -1;
		sc->pos += 2 + ndig + suffix;
		return token_end(sc, start);
	}
	ndig = digits(sc, sign);
	suffix = ndig > 0 ? l_suffix(sc, sign + ndig) : 0;
	ilen = ndig > 0 ? sign + ndig + suffix : 0;
	flen = float_length(sc, sign);
	if (ilen > 0 && ilen >= flen) {
		if (check_integer(sc, sign, ndig, 10, suffix) == -1)
			return -1;
		sc->pos += ilen;
	} else
		sc->pos += flen > 0 ? flen : 1;
	return token_end(sc, start);
}

static bool
at_line_start(const struct scanner *sc)
{
	return sc->pos == 0 || sc->text[sc->pos - 1] == '\n';
}

/* "^[ \t]*@include[ \t]+\"": the length of the opening, or 0. */
static size_t
include_open(const struct scanner *sc)
{
	size_t	n = 0, blanks;

	while (at(sc, n) == ' ' || at(sc, n) == '\t')
		n++;
	if (sc->len - sc->pos - n < 8 ||
	    memcmp(sc->text + sc->pos + n, "@include", 8) != 0)
		return 0;
	n += 8;
	for (blanks = 0; at(sc, n) == ' ' || at(sc, n) == '\t'; blanks++)
		n++;
	return blanks > 0 && at(sc, n) == '"' ? n + 1 : 0;
}

static int
scan_include(struct scanner *sc, size_t open)
{
	struct confscan_include	*inc;
	size_t			 n = 0;
	int			 c;

	if (sc->out->ninc == CONFSCAN_MAX_INCLUDES ||
	    ++sc->totals->includes > CONFSCAN_MAX_INCLUDES)
		return fail(sc, "more than %d @include lines",
		    CONFSCAN_MAX_INCLUDES);
	inc = &sc->out->inc[sc->out->ninc];
	inc->start = sc->pos;
	inc->line = sc->line;
	for (sc->pos += open; (c = at(sc, 0)) != '"'; sc->pos++) {
		if (c == '\\' && (at(sc, 1) == '\\' || at(sc, 1) == '"'))
			c = at(sc, 1), sc->pos++;
		else if (c == '\\' || c == '\n' || c == -1)
			return fail(sc, "@include: the file name must be one "
			    "line in quotes, without backslashes other than "
			    "\\\\ and \\\"");
		if (n + 1 >= sizeof(inc->path))
			return fail(sc, "@include: the file name is longer "
			    "than %zu bytes", sizeof(inc->path) - 1);
		inc->path[n++] = (char)c;
	}
	if (n == 0)
		return fail(sc, "@include: the file name is empty");
	inc->path[n] = '\0';
	inc->end = ++sc->pos;
	sc->out->ninc++;
	return 0;
}

static int
count(struct scanner *sc, size_t *n, size_t max, const char *what)
{
	if (++*n > max)
		return fail(sc, "more than %zu %s", max, what);
	return 0;
}

static int
scan_bracket(struct scanner *sc, int c)
{
	sc->pos++;
	if (strchr("{[(", c) != NULL) {
		if (++sc->depth > CONFSCAN_MAX_DEPTH)
			return fail(sc, "groups, lists and arrays are nested "
			    "deeper than %d levels", CONFSCAN_MAX_DEPTH);
	} else if (sc->depth > 0)
		sc->depth--;
	return 0;
}

static int
scan_token(struct scanner *sc, int c)
{
	size_t	start = sc->pos, open;

	if (at_line_start(sc) && (open = include_open(sc)) > 0)
		return scan_include(sc, open);
	if (c == '/' && at(sc, 1) == '*')
		return skip_block_comment(sc);
	if (c == '#' || (c == '/' && at(sc, 1) == '/')) {
		skip_line_comment(sc);
		return 0;
	}
	if (c == '"')
		return scan_string(sc);
	if (is_name(c, true)) {
		while (is_name(at(sc, 0), false))
			sc->pos++;
		sc->name = start;
		sc->name_len = sc->pos - start;
		return token_end(sc, start);
	}
	if (is_digit(c) || c == '-' || c == '+' || c == '.')
		return scan_number(sc);
	if (strchr("{}[]()", c) != NULL)
		return scan_bracket(sc, c);
	sc->pos++;
	if (c == '\n')
		sc->line++;
	else if (c == '=' || c == ':')
		return count(sc, &sc->totals->settings, CONFSCAN_MAX_SETTINGS,
		    "settings");
	else if (c == ',')
		return count(sc, &sc->totals->elements, CONFSCAN_MAX_ELEMENTS,
		    "list elements");
	return 0;
}

/*
 * Check "text" and list its @include lines in "out". Returns 0, or -1
 * with out->error and out->error_line. "totals" carries the counts over
 * the files of one configuration.
 */
int
confscan_check(const char *text, size_t len, struct confscan_totals *totals,
    struct confscan *out)
{
	struct scanner	sc = { text, len, 0, 1, 0, 0, 0, totals, out };

	out->ninc = 0;
	out->nwiden = 0;
	out->error_line = 0;
	out->error[0] = '\0';
	if (check_bytes(&sc) == -1)
		return -1;
	while (sc.pos < len)
		if (scan_token(&sc, (unsigned char)text[sc.pos]) == -1)
			return -1;
	return 0;
}
