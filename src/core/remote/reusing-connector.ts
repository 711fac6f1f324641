import type { ConnectOptions, HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import type { HostKey } from '../../remote/known-hosts.js';

/**
 * A connector that hands out one connection per host for a whole command: a command made of
 * several fan-outs (init-node: node set-up, apps deploy, confd restart) logs in once per host, not
 * once per phase. Only default (verified) connections are shared; a connection that was closed
 * or lost is replaced by a new one on the next connect.
 */
export class ReusingConnector implements HostConnector {
  readonly #open = new Map<string, Promise<RemoteHost>>();

  constructor(private readonly inner: HostConnector) {}

  connect(target: HostTarget, options?: ConnectOptions): Promise<RemoteHost> {
    if (options !== undefined) return this.inner.connect(target, options);
    const key = `${target.username}@${target.address}:${target.port} ${target.keyPath}`;
    let host = this.#open.get(key);
    if (host === undefined) {
      host = this.inner.connect(target);
      this.#open.set(key, host);
      const forget = () => {
        if (this.#open.get(key) === host) this.#open.delete(key);
      };
      host.then((h) => h.closed.then(forget), forget);
    }
    return host;
  }

  pinHostKey(target: HostTarget, key: HostKey): Promise<void> {
    return this.inner.pinHostKey(target, key);
  }

  forgetHostKey(target: HostTarget): Promise<void> {
    return this.inner.forgetHostKey(target);
  }

  async closeAll(): Promise<void> {
    this.#open.clear();
    await this.inner.closeAll();
  }
}
