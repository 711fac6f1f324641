import ssh2 from 'ssh2';
import { HostKeyMismatch, OperationFailed, UserError } from '../../domain/errors.js';
import { fingerprint, hostKeyFromBlob, hostPattern, type HostKey } from '../../remote/known-hosts.js';
import type { ConnectOptions, HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import { DEFAULT_HOST_KEY_ALGORITHMS, hostKeyAlgorithmsFor } from './host-key-algorithms.js';
import { createLimiter } from '../../util/concurrency.js';
import { KnownHostsFile } from './known-hosts-file.js';
import { readPrivateKeyFile } from './private-key-file.js';
import { coalescingSocket } from './coalescing-socket.js';
import { Ssh2Host } from './ssh2-host.js';

export interface ConnectorOptions {
  /** The project's known_hosts (OpenSSH format). */
  readonly knownHostsFile: string;
  /** Time allowed to establish one connection, retries included, from its first attempt. */
  readonly connectTimeoutMs: number;
  /** Simultaneous SSH handshakes (the CPU-heavy part); more connections wait their turn. */
  readonly maxHandshakes: number;
  /** Node names whose changed host key the operator accepted for this run. */
  readonly acceptChangedKeyFor: ReadonlySet<string>;
  /** ssh-agent socket, used when a key is passphrase-protected. */
  readonly agentSocket: string | undefined;
  /**
   * A host that answers nothing for this long is dead: SSH keepalives go every third of it and
   * the connection ends when the third one is unanswered; an SFTP request unanswered for twice
   * this long ends it too. Default 30 s.
   */
  readonly livenessMs?: number;
  /**
   * Refuse hosts whose key is not pinned yet instead of trusting the first contact: for callers
   * that act for someone else (the MCP server), who must not decide what to trust.
   */
  readonly refuseFirstContact?: boolean;
}

export const DEFAULT_LIVENESS_MS = 30_000;
/** How long the end of a run waits for a host to answer again, to remove its part files. */
const PART_FILE_CLEANUP_MS = 10_000;

/** Errors worth another attempt: the host is booting, restarting sshd, or the network blinked. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT']);

class HostKeyRejected extends UserError {}

function describeConnectError(target: HostTarget, err: Error & { code?: string; level?: string }): string {
  const where = `${target.name}: cannot connect to ${target.address}:${target.port}`;
  if (err.level === 'client-authentication') return `${target.name}: authentication failed for ${target.username}@${target.address} with ${target.keyPath}`;
  if (err.code === 'ECONNREFUSED') return `${where}: connection refused (is sshd running?)`;
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `${where}: no route to host`;
  if (/timed out/i.test(err.message) || err.code === 'ETIMEDOUT') return `${where}: timed out`;
  return `${where}: ${err.message}`;
}

function mismatch(target: HostTarget, pattern: string, expected: HostKey, presented: HostKey): HostKeyMismatch {
  return new HostKeyMismatch(`${target.name}: ${pattern} presented another host key than the one it was given before the reboot: refusing to connect`, [
    `expected:  ${expected.type} ${fingerprint(expected)}`,
    `presented: ${presented.type} ${fingerprint(presented)}`,
    'another machine may be answering on this address; nothing was sent to it and nothing was pinned',
  ]);
}

/**
 * Opens verified ssh2 connections. Host keys are pinned in the project's known_hosts: a first
 * contact is recorded, a changed key is refused before authentication finishes (so nothing runs
 * there), unless the operator accepted it for that node.
 */
export class Ssh2Connector implements HostConnector {
  private readonly knownHosts: KnownHostsFile;
  private readonly handshake: <T>(task: () => Promise<T>) => Promise<T>;
  private readonly open = new Set<Ssh2Host>();
  private readonly keyCache = new Map<string, Promise<Buffer>>();

  private get liveness(): number {
    return this.options.livenessMs ?? DEFAULT_LIVENESS_MS;
  }

  constructor(private readonly options: ConnectorOptions) {
    this.knownHosts = new KnownHostsFile(options.knownHostsFile);
    this.handshake = createLimiter(Math.max(1, options.maxHandshakes));
  }

  async connect(target: HostTarget, options: ConnectOptions = {}): Promise<RemoteHost> {
    const privateKey = await this.privateKey(target);
    const expected = typeof options.hostKey === 'object' ? options.hostKey.expect : undefined;
    const timeoutMs = options.timeoutMs ?? this.options.connectTimeoutMs;
    // The timeout starts when this host's first attempt gets a handshake slot: time spent queued
    // behind other hosts is not this host's fault.
    let deadline: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const host = await this.handshake(() => {
          deadline ??= Date.now() + timeoutMs;
          return this.attempt(target, privateKey, deadline, expected);
        });
        this.open.add(host);
        return host;
      } catch (err) {
        const error = err as Error & { code?: string };
        const backoff = Math.min(2000, 200 * 2 ** (attempt - 1));
        if (error instanceof UserError || !RETRYABLE.has(error.code ?? '') || Date.now() + backoff >= (deadline ?? 0)) {
          throw error instanceof UserError ? error : new OperationFailed(describeConnectError(target, error));
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  async pinHostKey(target: HostTarget, key: HostKey): Promise<void> {
    const pattern = hostPattern(target.address, target.port);
    const pinned = await this.knownHosts.pinnedKeys(pattern);
    // Already the only pinned key (the machine kept its key through the conversion): no write.
    if (pinned.length === 1 && pinned[0]?.type === key.type && pinned[0].base64 === key.base64) return;
    try {
      await this.knownHosts.replace(pattern, key);
    } catch (err) {
      throw new OperationFailed(`${target.name}: cannot update ${this.options.knownHostsFile}: ${(err as Error).message}`);
    }
  }

  async forgetHostKey(target: HostTarget): Promise<void> {
    await this.knownHosts.forget(hostPattern(target.address, target.port));
  }

  /**
   * Removes the part files of unfinished writes first (an interrupted run's, on live
   * connections; a lost connection's, if its host answers again within a few seconds), then
   * closes every connection.
   */
  async closeAll(): Promise<void> {
    const hosts = [...this.open];
    this.open.clear();
    await Promise.all(hosts.map((host) => this.removePartFiles(host)));
    for (const host of hosts) host.close();
  }

  private async removePartFiles(host: Ssh2Host): Promise<void> {
    const parts = host.partFiles();
    if (parts.length === 0) return;
    if (host.lost() === undefined) return host.removePartFiles();
    let again: Ssh2Host | undefined;
    try {
      again = (await this.connect(host.target, { timeoutMs: Math.min(PART_FILE_CLEANUP_MS, this.options.connectTimeoutMs) })) as Ssh2Host;
      const files = await again.files();
      await Promise.all(parts.map((part) => files.remove(part).catch(() => undefined)));
    } catch {
      // Still unreachable: the host's failure says why; its part files stay until it is back.
    } finally {
      if (again !== undefined) {
        this.open.delete(again);
        again.close();
      }
    }
  }

  private privateKey(target: HostTarget): Promise<Buffer> {
    let key = this.keyCache.get(target.keyPath);
    if (key === undefined) {
      key = readPrivateKeyFile(target.keyPath);
      this.keyCache.set(target.keyPath, key);
    }
    return key;
  }

  /** Auth settings: the key itself, or ssh-agent when the key is passphrase-protected. */
  private auth(target: HostTarget, privateKey: Buffer): ssh2.ConnectConfig {
    const parsed = ssh2.utils.parseKey(privateKey);
    if (!(parsed instanceof Error)) return { privateKey };
    if (/passphrase/i.test(parsed.message)) {
      if (this.options.agentSocket) return { agent: this.options.agentSocket };
      throw new UserError(`${target.name}: ${target.keyPath} is protected by a passphrase`, {
        hints: ['load it into ssh-agent (`ssh-add <key>`) and make sure SSH_AUTH_SOCK is set'],
      });
    }
    throw new UserError(`${target.name}: ${target.keyPath} is not a private key ssh2 can read (${parsed.message})`);
  }

  private async attempt(target: HostTarget, privateKey: Buffer, deadline: number, expected: HostKey | undefined): Promise<Ssh2Host> {
    const pattern = hostPattern(target.address, target.port);
    // Offer only the algorithms of the key we want to see, so a host with several keys shows it.
    const pinned = expected === undefined ? await this.knownHosts.pinnedKeys(pattern) : [expected];
    // Settle authentication before opening a socket: a throw after it would leave the socket
    // connected (and the process alive) until the server's login grace time runs out.
    const auth = this.auth(target, privateKey);
    const client = new ssh2.Client();
    let rejection: UserError | undefined;
    /** A key to pin once the host has authenticated us: new, or a change the operator accepted. */
    let toPin: { key: HostKey; replace: boolean } | undefined;
    let presentedKey: HostKey | undefined;

    const verify = (blob: Buffer, done: (ok: boolean) => void): void => {
      const presented = hostKeyFromBlob(blob);
      if (expected !== undefined) {
        // Exactly the key the host was given over a trusted connection, or nothing: what a host
        // says about itself after logging in proves nothing, so the check is here, before it.
        presentedKey = presented;
        const same = presented.type === expected.type && presented.base64 === expected.base64;
        if (!same) rejection = mismatch(target, pattern, expected, presented);
        done(same);
        return;
      }
      presentedKey = presented;
      this.checkHostKey(target, pattern, presented).then(
        (outcome) => {
          if (outcome !== 'known') toPin = { key: presented, replace: outcome === 'accepted-change' };
          done(true);
        },
        (err: UserError) => {
          rejection = err;
          done(false);
        },
      );
    };

    return new Promise<Ssh2Host>((resolve, reject) => {
      let ready = false;
      client.once('ready', () => {
        ready = true;
        // Pin only after the login succeeded, so a host that refuses our key (a wrong address,
        // a half-installed machine) leaves no trace. This is trust on first use: it cannot tell
        // an impostor that accepts any key on first contact; pre-pin keys to exclude that.
        const pin = toPin === undefined ? Promise.resolve() : toPin.replace ? this.knownHosts.replace(pattern, toPin.key) : this.knownHosts.record(pattern, toPin.key);
        pin.then(
          () => resolve(new Ssh2Host(target, client, { keepaliveBoundMs: this.liveness, progressMs: 2 * this.liveness }, presentedKey)),
          (err: Error) => {
            client.end();
            reject(new OperationFailed(`${target.name}: cannot update ${this.options.knownHostsFile}: ${err.message}`));
          },
        );
      });
      // `on`, not `once`: a connection given up on (a handshake timeout) may report a second
      // error when its socket finally closes ("Connection lost before handshake"), and an
      // 'error' without a listener would end the process. Only the first one counts.
      client.on('error', (err) => {
        if (ready) return; // from here on the host's own listener reports it
        client.destroy();
        // Only the pinned key types were offered; a host without any of them has changed its key.
        if (rejection === undefined && pinned.length > 0 && /no matching host key format/.test(err.message)) {
          rejection = this.changedKey(target, pattern, pinned, `the host offers no ${[...new Set(pinned.map((k) => k.type))].join(' or ')} key any more`);
        }
        reject(rejection ?? err);
      });
      client.connect({
        sock: coalescingSocket(target.address, target.port),
        host: target.address,
        port: target.port,
        username: target.username,
        ...auth,
        readyTimeout: Math.max(1000, deadline - Date.now()),
        // ssh2 ends the connection when a keepalive finds keepaliveCountMax unanswered before it.
        keepaliveInterval: Math.max(100, Math.floor(this.liveness / 3)),
        keepaliveCountMax: 2,
        hostVerifier: verify,
        // An accepted change may come with another key type: then every type is offered.
        algorithms: { serverHostKey: (this.options.acceptChangedKeyFor.has(target.name) ? DEFAULT_HOST_KEY_ALGORITHMS : hostKeyAlgorithmsFor(pinned)) as ssh2.ServerHostKeyAlgorithm[] },
      });
    });
  }

  private async checkHostKey(target: HostTarget, pattern: string, presented: HostKey): Promise<'known' | 'first-contact' | 'accepted-change'> {
    const verdict = await this.knownHosts.verdict(pattern, presented);
    if (verdict.kind === 'known') return 'known';
    if (verdict.kind === 'new') {
      if (this.options.refuseFirstContact !== true) return 'first-contact';
      throw new HostKeyRejected(`${target.name}: no pinned host key for ${pattern}: refusing to trust a first contact here`, {
        hints: [`pin it with a CLI command first, e.g. nix-infra fleet cmd --target ${target.name} true`],
      });
    }
    if (this.options.acceptChangedKeyFor.has(target.name)) return 'accepted-change';
    throw this.changedKey(target, pattern, verdict.pinned, `presented: ${presented.type} ${fingerprint(presented)}`);
  }

  private changedKey(target: HostTarget, pattern: string, pinned: readonly HostKey[], presented: string): HostKeyRejected {
    return new HostKeyRejected(`${target.name}: host key changed for ${pattern}: refusing to connect`, {
      hints: [
        `pinned:    ${pinned.map((k) => `${k.type} ${fingerprint(k)}`).join(', ')}`,
        presented,
        `if the machine was reinstalled, accept the new key with --accept-host-key ${target.name}`,
        `(pinned keys are in ${this.options.knownHostsFile})`,
      ],
    });
  }
}
