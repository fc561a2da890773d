/* SPDX-License-Identifier: ISC */
/*
 * fault_point.c: the weak no-op fault point of the shared tables' critical
 * sections, which tests/stress/fault.c replaces in the test-only daemon build
 * (as worker_fault_point() for the worker's loop). Nothing else.
 */
#include "build-config.h"

#include "core/fault_point.h"

__attribute__((weak)) void
fault_point(const char *where)
{
	(void)where;
}
