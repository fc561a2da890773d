/* SPDX-License-Identifier: ISC */
/* fuzz.h: what the libFuzzer targets share. */
#ifndef SOCKECHOD_FUZZ_H
#define SOCKECHOD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	fuzz_offline(void);
char	*fuzz_string(const uint8_t *, size_t);

#endif
