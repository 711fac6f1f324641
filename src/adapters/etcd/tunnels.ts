import type { RemoteHost } from '../../ports/remote-host.js';
import { forwardLocalPort, type ForwardHandle } from '../local-port-forward.js';
import type { EtcdEndpoint } from './etcd-control-plane.js';

/** etcd's client port on a control node. */
export const ETCD_CLIENT_PORT = 2379;

export interface EtcdTunnels {
  /** One endpoint per host, in the hosts' order: `127.0.0.1:<local port>` labelled with the host. */
  readonly endpoints: readonly EtcdEndpoint[];
  /** Stops every listener and drops the connections carried through them. */
  close(): Promise<void>;
}

export interface OpenTunnelsOptions {
  /** The address the node dials (as seen from the node). Default 127.0.0.1. */
  readonly remoteHost?: string;
  /** Called when a forwarded connection cannot be opened through SSH. */
  readonly onError?: (host: string, message: string) => void;
}

/**
 * `ssh -L 127.0.0.1:<free port>:127.0.0.1:<remotePort>` to every host: etcd is reached through
 * each control node's own SSH connection, on the node's loopback, so 2379 never needs to be
 * reachable from the workstation. The node certificates carry `IP:127.0.0.1`, so the TLS name
 * check passes for `127.0.0.1:<local port>` without any override.
 *
 * Each endpoint remembers its tunnel's last error (a refused channel, a lost SSH connection) so
 * that a failed etcd call can say why.
 */
export async function openTunnels(hosts: readonly RemoteHost[], remotePort: number = ETCD_CLIENT_PORT, options: OpenTunnelsOptions = {}): Promise<EtcdTunnels> {
  const remoteHost = options.remoteHost ?? '127.0.0.1';
  const handles: ForwardHandle[] = [];
  const endpoints: EtcdEndpoint[] = [];
  const close = async () => {
    await Promise.all(handles.map((h) => h.stop()));
  };
  try {
    for (const host of hosts) {
      const name = host.target.name;
      let lastError: string | undefined;
      let lostConnection: string | undefined;
      host.closed.then(
        (reason) => {
          lostConnection = reason;
        },
        () => undefined,
      );
      const handle = await forwardLocalPort(host, 0, remoteHost, remotePort, (message) => {
        lastError = message;
        options.onError?.(name, message);
      });
      handles.push(handle);
      const address = `127.0.0.1:${handle.localPort}`;
      endpoints.push({
        address,
        label: `${name} via ${address}`,
        // The node's certificate names it (DNS:<node>): a tunnel that reached any other node fails.
        serverName: name,
        lastTransportError: () => (lostConnection === undefined ? lastError : `SSH connection to ${name} closed: ${lostConnection}`),
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { endpoints, close };
}
