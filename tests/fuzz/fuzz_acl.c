/* SPDX-License-Identifier: ISC */
/* fuzz_acl.c: the CIDR parser of the access lists, and its formatter. */
#include <stdlib.h>
#include <string.h>

#include "net/acl.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl_prefix	p, again;
	char			why[256], text[128], *s = fuzz_string(data, size);

	/* What it accepts, it formats into text that parses the same. */
	if (acl_parse(s, &p, why, sizeof(why)) == 0) {
		acl_prefix_format(&p, text, sizeof(text));
		if (acl_parse(text, &again, why, sizeof(why)) != 0 ||
		    again.len != p.len ||
		    again.addr.family != p.addr.family ||
		    memcmp(again.addr.bytes, p.addr.bytes,
		    sizeof(p.addr.bytes)) != 0)
			abort();
	}
	free(s);
	return 0;
}
