#!/usr/bin/env node
// A TCP proxy that adds round-trip latency, for benchmarks where tc netem is not available (no
// sch_netem module in this kernel). Each listener forwards to one target; every chunk is held
// for half the delay in each direction, in order, so a round trip takes `delay` ms longer.
// Usage: node bench/delay-proxy.js DELAY_MS LISTEN_IP=TARGET_IP:PORT...   (listens on port 22)
// Prints "ready" on stdout once every listener is bound; runs until killed.
import net from 'node:net';

const [delayArg, ...pairs] = process.argv.slice(2);
const half = Number(delayArg) / 2;

/** Copies `from` to `to`, each chunk delivered `half` ms after it arrived, order kept. */
function delayed(from, to) {
  let last = 0;
  from.on('data', (chunk) => {
    const due = Math.max(Date.now() + half, last);
    last = due;
    setTimeout(() => to.write(chunk), due - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now()) + 1));
  from.on('error', () => to.destroy());
}

let pending = pairs.length;
for (const pair of pairs) {
  const [listen, target] = pair.split('=');
  const [host, port] = target.split(':');
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host, port: Number(port), noDelay: true });
    delayed(client, upstream);
    delayed(upstream, client);
  });
  server.listen(22, listen, () => {
    pending -= 1;
    if (pending === 0) console.log('ready');
  });
}
