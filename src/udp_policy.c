/* SPDX-License-Identifier: ISC */
/*
 * udp_policy.c: the rules that keep a UDP echo server out of loops and
 * reflection attacks, as pure functions of addresses, ports, times and
 * counts. No sockets, no clocks, no shared memory here.
 */
#include "build-config.h"

#include "udp_policy.h"

const char *
udp_policy_drop_name(enum udp_drop why)
{
	static const char *const names[UDP_DROP_COUNT] = {
		[UDP_DROP_PORT] = "port",
		[UDP_DROP_SELF] = "self",
		[UDP_DROP_ADDRESS] = "address",
		[UDP_DROP_DENIED] = "denied",
		[UDP_DROP_CLIENT_RATE] = "client_rate",
		[UDP_DROP_GLOBAL_RATE] = "global_rate",
		[UDP_DROP_TRUNCATED] = "truncated",
		[UDP_DROP_SEND] = "send_failed",
	};

	return why >= 0 && why < UDP_DROP_COUNT ? names[why] : "?";
}
