/* SPDX-License-Identifier: ISC */
/* fuzz_listen.c: the listen address parser, and resolving what it accepts. */
#include <stdlib.h>

#include "fuzz.h"
#include "net/listen.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listen_sockaddr	*sa;
	struct listen_addr	 a;
	const char		*why;
	char			*text = fuzz_string(data, size);
	size_t			 n;

	if (listen_parse(text, &a, &why) == 0 &&
	    listen_resolve(&a, &sa, &n, &why) == 0)
		free(sa);
	free(text);
	return 0;
}
