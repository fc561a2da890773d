/* SPDX-License-Identifier: ISC */
/*
 * check_main.c: the main() of the Check programs: run suite(), fail on
 * failures, skip (77) when a test could not run here.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/check_main.h"

#define EXIT_SKIP	77	/* automake's test protocol */

/* Shared with the forked test processes, which append their reasons. */
static FILE	*skips;

void
check_skip(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (skips != NULL) {
		fputc('s', skips);
		fflush(skips);
	}
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;
	long	 nskipped = 0;

	if ((skips = tmpfile()) == NULL)
		perror("tmpfile");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (skips != NULL && fseek(skips, 0, SEEK_END) == 0)
		nskipped = ftell(skips);
	if (failed != 0)
		return EXIT_FAILURE;
	if (nskipped > 0) {
		fprintf(stderr, "%ld test(s) could not run here: SKIP\n",
		    nskipped);
		return EXIT_SKIP;
	}
	return EXIT_SUCCESS;
}
