// SPDX-License-Identifier: ISC
// node_echo.js: a benchmark peer, Node.js's idiom for an echo server: each
// net.Socket piped into itself, one process. It listens on 127.0.0.1:PORT
// only; no configuration, no logging.
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
if (!(port > 0)) {
	process.stderr.write('usage: node node_echo.js PORT\n');
	process.exit(2);
}
net.createServer({ noDelay: true }, (s) => {
	s.on('error', () => s.destroy());
	s.pipe(s);
}).listen({ host: '127.0.0.1', port: port, backlog: 4096 });
