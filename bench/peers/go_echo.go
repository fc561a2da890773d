// SPDX-License-Identifier: ISC
// go_echo.go: a benchmark peer, Go's idiom for an echo server: a goroutine
// per connection that runs io.Copy(c, c) (which splices on Linux). It
// listens on 127.0.0.1:PORT only, with SO_REUSEPORT, so that "make
// bench-scale" can run several of them side by side; no configuration, no
// logging.
package main

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// SO_REUSEPORT on Linux; the syscall package of Go 1.19 does not name it.
const soReusePort = 0xf

func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET,
			soReusePort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: go_echo PORT\n")
		os.Exit(2)
	}
	lc := net.ListenConfig{Control: reusePort}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		panic(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			// Out of descriptors, say: try again a little later.
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go func(c net.Conn) {
			io.Copy(c, c)
			c.Close()
		}(c)
	}
}
