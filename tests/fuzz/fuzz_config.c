/* SPDX-License-Identifier: ISC */
/*
 * fuzz_config.c: the configuration loader on any bytes, through the same
 * path as a file on disk: a memfd opened by its /proc/self/fd name.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors	errs = { NULL, 0 };
	struct config		cfg;
	char			path[64];
	int			fd;

	if ((fd = memfd_create("sockecho.conf", MFD_CLOEXEC)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)config_load(&cfg, path, false, &errs);
	config_errors_free(&errs);
	config_free(&cfg);
	close(fd);
	return 0;
}
