/* SPDX-License-Identifier: ISC */
/*
 * fuzz.c: what the libFuzzer targets share: no network (a fuzzed host name
 * must not become a DNS query), inputs as C strings.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* A network namespace of our own: resolving a name fails at once. */
void
fuzz_offline(void)
{
	if (unshare(CLONE_NEWNET) == 0 ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		return;
	perror("fuzz: unshare(CLONE_NEWNET), refusing to fuzz with a network");
	abort();
}

/* Every target runs offline; the socket pairs of fuzz_echo still work. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_offline();
	return 0;
}

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char	*s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
