// SPDX-License-Identifier: ISC
// go_echo.go: a benchmark peer, Go's idiom for an echo server: a goroutine
// per connection that runs io.Copy(c, c) (which splices on Linux). It
// listens on 127.0.0.1:PORT only; no configuration, no logging.
package main

import (
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: go_echo PORT\n")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
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
