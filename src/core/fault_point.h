/* SPDX-License-Identifier: ISC */
/* fault_point.h: where a test-only build may kill or stall the process on purpose. */
#ifndef SOCKECHOD_FAULT_POINT_H
#define SOCKECHOD_FAULT_POINT_H

void	fault_point(const char *where);

#endif
