import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { OperationFailed } from '../domain/errors.js';
import type { RemoteHost } from '../ports/remote-host.js';

export interface ForwardHandle {
  /** The local port actually bound (useful with port 0). */
  readonly localPort: number;
  stop(): Promise<void>;
}

/**
 * `ssh -L`: listens on 127.0.0.1 only (never on other interfaces) and carries each accepted
 * connection through the host's SSH connection to `remoteHost:remotePort` as seen from that host.
 */
export async function forwardLocalPort(host: RemoteHost, localPort: number, remoteHost: string, remotePort: number, onError: (message: string) => void): Promise<ForwardHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    host.forward(remoteHost, remotePort).then(
      (channel) => Promise.all([pipeline(socket, channel), pipeline(channel, socket)]).catch(() => undefined),
      (err: Error) => {
        onError(err.message);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new OperationFailed(`cannot listen on 127.0.0.1:${localPort}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}`)),
    );
    server.listen(localPort, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    localPort: typeof address === 'object' && address !== null ? address.port : localPort,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
