import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import { serve } from '@hono/node-server';
import type { Context, Hono } from 'hono';

export interface ListeningServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The peer's address as the socket saw it (no proxy headers are trusted). */
export function clientAddress(c: Context): string {
  return getConnInfo(c).remote.address ?? 'unknown';
}

/** Serves `app` on host:port, over TLS when a certificate and key are given. */
export async function listen(app: Hono, options: { host: string; port: number; tls?: { certFile: string; keyFile: string } }): Promise<ListeningServer> {
  const tls = options.tls === undefined ? undefined : { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) };
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: options.host,
        port: options.port,
        ...(tls === undefined ? {} : { createServer: createHttpsServer, serverOptions: tls }),
      },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          url: `${tls === undefined ? 'http' : 'https'}://${host}:${info.port}`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      },
    );
    server.once('error', reject);
  });
}
