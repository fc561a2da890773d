# SPDX-License-Identifier: ISC
# uvloop_echo.py: a benchmark peer, Python's fastest idiom for an echo
# server: an asyncio Protocol on uvloop that writes back what it receives
# and stops reading while the kernel will not take more. One process,
# 127.0.0.1:PORT only; no configuration, no logging.
import asyncio
import sys

import uvloop


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: uvloop_echo.py PORT")
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.create_server(Echo, "127.0.0.1", int(sys.argv[1]),
                                backlog=4096, reuse_address=True)
    loop.run_until_complete(server)
    loop.run_forever()


if __name__ == "__main__":
    main()
