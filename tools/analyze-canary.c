/*
 * tools/analyze-canary.c: a NULL dereference and a leak, planted for
 * tools/analyze, which runs each analyser over this file with src/ and
 * fails when one of them does not report it: an analyser that stopped
 * working cannot pass in silence. Never compiled into anything.
 */
#include <stdlib.h>
#include <string.h>

int	analyze_canary(const char *);

int
analyze_canary(const char *s)
{
	char	*copy;
	int	*p = NULL;

	if ((copy = strdup(s)) == NULL)
		return -1;
	if (s[0] == 'x')
		return *p;
	return copy[0];
}
