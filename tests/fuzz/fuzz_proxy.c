/* SPDX-License-Identifier: ISC */
/* fuzz_proxy.c: the PROXY protocol header parser, on bytes as they arrive. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/proxy.h"

/* A header that parses whole must need more at every shorter length. */
static void
check_prefixes(const uint8_t *data, const struct proxy_header *h)
{
	struct proxy_header	again;
	const char		*why;
	size_t			 cut[] = { 0, 1, h->bytes / 2, h->bytes - 1 };

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		if (cut[i] < h->bytes &&
		    proxy_parse(data, cut[i], &again, &why) != PROXY_NEED_MORE)
			abort();
	if (proxy_parse(data, h->bytes, &again, &why) != PROXY_OK ||
	    again.bytes != h->bytes || again.has_addr != h->has_addr ||
	    memcmp(&again.src, &h->src, sizeof(h->src)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header	h;
	const char		*why;

	switch (proxy_parse(data, size, &h, &why)) {
	case PROXY_OK:
		if (h.bytes == 0 || h.bytes > size || h.bytes > PROXY_MAX_BYTES)
			abort();
		check_prefixes(data, &h);
		break;
	case PROXY_NEED_MORE:
		if (size >= PROXY_MAX_BYTES)
			abort();	/* a reader would wait for ever */
		break;
	case PROXY_ERROR:
		if (why == NULL)
			abort();
		break;
	}
	return 0;
}
