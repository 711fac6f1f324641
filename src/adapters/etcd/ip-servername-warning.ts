import net from 'node:net';
import tls from 'node:tls';

/**
 * grpc-js sends the dialled host as TLS SNI. Our endpoints are `127.0.0.1:<port>` (SSH tunnels)
 * and the node certificates carry `IP:127.0.0.1` as SAN, so that host is an IP address, and
 * Node prints `[DEP0123] DeprecationWarning: Setting the TLS ServerName to an IP address is not
 * permitted by RFC 6066` to stderr on the first such connection: noise in every etcd command.
 *
 * The warning is about SNI only: certificate verification still checks the IP against the
 * certificate's SAN (tls.checkServerIdentity), and etcd does not use SNI. Node warns once per
 * process, so this opens one throw-away TLS wrapper with an IP servername while deprecation
 * warnings are muted, then restores the setting. Nothing is connected and no other warning is
 * affected.
 */
let done = false;

export function consumeIpServernameWarning(): void {
  if (done) return;
  done = true;
  const previous = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const raw = new net.Socket();
    const socket = tls.connect({ socket: raw, servername: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.destroy();
    raw.destroy();
  } catch {
    // Best effort: at worst the warning is printed once.
  } finally {
    process.noDeprecation = previous;
  }
}
