/* SPDX-License-Identifier: ISC */
/*
 * msgid.h: the journal MESSAGE_IDs of the lifecycle events. They are part
 * of the interface (journalctl MESSAGE_ID=..., systemd/sockechod.catalog,
 * sockechod(8)): never change one.
 */
#ifndef SOCKECHOD_MSGID_H
#define SOCKECHOD_MSGID_H

#define MSGID_STARTED		"7476b8ff58994674b54734056d488476"
#define MSGID_READY		"59961819df194eae9d96e688d3a24af9"
#define MSGID_RELOADED		"a3fa1e34f98c4b6982f418a0afd3e6e3"
#define MSGID_RELOAD_FAILED	"ceb17a6538f94b0c8dcc86d0b630b93b"
#define MSGID_WORKER_EXITED	"39c6108a6f554d91b19ba9e289ed117c"
#define MSGID_WORKER_RESPAWNED	"c36010f37f9d40c1af8ceea436e3c45e"
#define MSGID_STOPPING		"ab80e1b6863f4398bff413f430d72113"
#define MSGID_STOPPED		"8087d0204aa041858bfcebb10c08d3cb"
#define MSGID_WORKER_HUNG	"a504679650e74095b017ed03c3b29f3e"
#define MSGID_CRASH_LOOP	"65b07e871213449fb4560cf07e6396bd"
#define MSGID_CONNECTION	"b7b51914126e4527b18557efcf3e8309"

#endif
