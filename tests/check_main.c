/* SPDX-License-Identifier: ISC */
/* check_main.c: the main() of the Check programs: run suite(), fail on failures. */
#include "build-config.h"

#include <stdlib.h>

#include "check_main.h"

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
