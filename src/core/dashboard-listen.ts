import { UserError } from '../domain/errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly loopback: boolean;
}

/** `--listen HOST:PORT` (`[::1]:8480` for IPv6); loopback addresses are the safe default. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new UserError(`--listen ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:8480 or [::1]:8480 (port 0 picks a free one)`);
  }
  const host = (match[1] ?? match[2]) as string;
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return { host, port, loopback };
}

/**
 * An admin panel reachable from the network must not send its token and cookies in clear:
 * a non-loopback address needs TLS, unless the operator says in so many words that it may not.
 */
export function checkExposure(address: ListenAddress, tls: boolean, insecureHttp: boolean): void {
  if (address.loopback || tls || insecureHttp) return;
  throw new UserError(`--listen ${address.host}: a dashboard reachable from other machines needs TLS`, {
    hints: ['pass --tls-cert and --tls-key, or listen on 127.0.0.1 and use an SSH tunnel, or (not recommended) --insecure-http'],
  });
}
