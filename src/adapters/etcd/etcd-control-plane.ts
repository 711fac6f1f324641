import { Etcd3, type IOptions } from 'etcd3';
import { OperationFailed, UserError } from '../../domain/errors.js';
import type { SecretValue } from '../../domain/secret-value.js';
import { checkDeletePrefix, checkKey, checkPrefix } from '../../domain/etcd-keys.js';
import type {
  ControlPlane,
  ControlPlaneHealth,
  ControlPlaneLeases,
  ControlPlaneMember,
  EndpointFailure,
  LeasedKeys,
  PutIfChangedResult,
} from '../../ports/control-plane.js';
import { classifyFailure, failureHints, type FailureKind } from './failure-reason.js';
import { consumeIpServernameWarning } from './ip-servername-warning.js';

/** Keys per transaction when creating leased keys: below etcd's default cap of 128 operations. */
const LEASE_CHUNK = 60;

/** One etcd client endpoint. */
export interface EtcdEndpoint {
  /** `host:port` to dial, e.g. `127.0.0.1:40123` (a local SSH tunnel). TLS is always used. */
  readonly address: string;
  /** How the endpoint is named in messages (default: the address), e.g. `etcd001 via 127.0.0.1:40123`. */
  readonly label?: string;
  /** The transport's own last error (e.g. the SSH tunnel's), added to a failure reason. */
  readonly lastTransportError?: () => string | undefined;
  /**
   * The name this endpoint's server certificate must carry, when it is not the dialled host. A
   * tunnel sets the node's name (every node certificate has DNS:<node>), so a tunnel that ends
   * at another node (a certificate issued for another node) is refused.
   */
  readonly serverName?: string;
}

/**
 * mTLS material, in memory only: nothing is written to disk. The server certificate is verified
 * against `caChain` (and its SAN against the dialled host); verification cannot be turned off.
 */
export interface EtcdTlsMaterial {
  /** PEM: the CA certificates that issued the members' certificates (root + intermediate). */
  readonly caChain: string | Buffer;
  /** PEM: the operator's client certificate (optionally followed by its chain). */
  readonly clientCert: string | Buffer;
  /** PEM: the client certificate's private key. */
  readonly clientKey: SecretValue;
}

export interface EtcdControlPlaneOptions {
  /** Tried in this order; later calls start with the endpoint that answered last. */
  readonly endpoints: readonly EtcdEndpoint[];
  readonly tls: EtcdTlsMaterial;
  /** Per call and endpoint, connection set-up included. Default 5000 ms. */
  readonly callTimeoutMs?: number;
  /**
   * The name the server certificate must carry, when it is not the dialled host (grpc's
   * `ssl_target_name_override`: verification stays on, against this name). Not needed for
   * tunnels to 127.0.0.1: node certificates carry `IP:127.0.0.1`.
   */
  readonly serverName?: string;
}

export const DEFAULT_ETCD_CALL_TIMEOUT_MS = 5000;

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

/**
 * A policy that just runs the call: no retries and no circuit breaker inside etcd3. Each client
 * has exactly one host, and failover across endpoints is done here, in order, with reasons.
 */
const passThrough: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  execute: async (fn, signal) => fn({ signal: signal ?? new AbortController().signal }),
};

interface Slot {
  readonly endpoint: EtcdEndpoint;
  readonly label: string;
  readonly client: Etcd3;
}

interface Answer<T> {
  readonly value: T;
  readonly answeredBy: string;
  readonly skipped: readonly EndpointFailure[];
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function checkAddress(address: string): void {
  if (!/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) {
    throw new UserError(`etcd endpoint ${JSON.stringify(address)} is not host:port`);
  }
}

class EtcdControlPlane implements ControlPlane, ControlPlaneLeases {
  readonly endpoints: readonly string[];
  readonly #slots: readonly Slot[];
  readonly #timeoutMs: number;
  #preferred = 0;
  #closed = false;

  constructor(slots: readonly Slot[], timeoutMs: number) {
    this.#slots = slots;
    this.#timeoutMs = timeoutMs;
    this.endpoints = slots.map((s) => s.label);
  }

  async #call<T>(what: string, run: (client: Etcd3) => Promise<T>): Promise<Answer<T>> {
    if (this.#closed) throw new Error('the etcd control plane client is closed');
    const failures: EndpointFailure[] = [];
    const kinds: FailureKind[] = [];
    const start = this.#preferred;
    for (let i = 0; i < this.#slots.length; i++) {
      const index = (start + i) % this.#slots.length;
      const slot = this.#slots[index] as Slot;
      try {
        const value = await run(slot.client);
        this.#preferred = index;
        return { value, answeredBy: slot.label, skipped: failures };
      } catch (err) {
        const failure = classifyFailure(err, this.#timeoutMs);
        const transport = slot.endpoint.lastTransportError?.();
        const reason = transport === undefined ? failure.reason : `${failure.reason}; last tunnel error: ${transport}`;
        if (!failure.tryNext) throw new OperationFailed(`etcd ${what} at ${slot.label}: ${reason}`);
        kinds.push(failure.kind);
        failures.push({ endpoint: slot.label, reason });
      }
    }
    throw new OperationFailed(
      `etcd ${what}: no endpoint answered (${failures.map((f) => `${f.endpoint}: ${f.reason}`).join('; ')})`,
      failureHints(kinds),
    );
  }

  async get(key: string): Promise<string | undefined> {
    checkKey(key);
    const { value } = await this.#call(`get ${key}`, (c) => c.get(key).string());
    return value ?? undefined;
  }

  async getPrefix(prefix: string): Promise<ReadonlyMap<string, string>> {
    checkPrefix(prefix);
    const { value } = await this.#call(`get ${prefix} (prefix)`, (c) => c.getAll().prefix(prefix).exec());
    const kvs = [...value.kvs].sort((a, b) => Buffer.compare(a.key, b.key));
    return new Map(kvs.map((kv) => [kv.key.toString('utf8'), kv.value.toString('utf8')]));
  }

  async put(key: string, value: string): Promise<void> {
    checkKey(key);
    await this.#call(`put ${key}`, (c) => c.put(key).value(value).exec());
  }

  async putIfChanged(key: string, value: string): Promise<PutIfChangedResult> {
    checkKey(key);
    const { value: response } = await this.#call(`put ${key}`, (c) =>
      c.if(key, 'Value', '==', value).else(c.get(key), c.put(key).value(value)).commit(),
    );
    // A value comparison on a missing key is always false in etcd, so `succeeded` means the key
    // exists and already holds `value`.
    if (response.succeeded) return { outcome: 'unchanged' };
    const previous = response.responses[0]?.response_range?.kvs[0]?.value;
    return previous === undefined ? { outcome: 'created' } : { outcome: 'updated', previous: previous.toString('utf8') };
  }

  async delete(key: string): Promise<number> {
    checkKey(key);
    const { value } = await this.#call(`delete ${key}`, (c) => c.delete().key(key).exec());
    return Number(value.deleted);
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkDeletePrefix(prefix);
    const { value } = await this.#call(`delete ${prefix} (prefix)`, (c) => c.delete().prefix(prefix).exec());
    return Number(value.deleted);
  }

  async health(): Promise<ControlPlaneHealth> {
    const { value, answeredBy, skipped } = await this.#call('health', async (c) => {
      const status = await c.maintenance.status({});
      const list = await c.cluster.memberList({});
      return { status, list };
    });
    const leaderId = String(value.status.leader);
    const members: ControlPlaneMember[] = value.list.members.map((m) => ({
      id: String(m.ID),
      name: m.name,
      peerUrls: [...m.peerURLs],
      clientUrls: [...m.clientURLs],
      isLeader: String(m.ID) === leaderId,
      isLearner: m.isLearner === true,
    }));
    members.sort((a, b) => a.name.localeCompare(b.name));
    return { answeredBy, skipped, version: value.status.version, leaderId, members };
  }

  async createLeased(keys: readonly string[], value: string, ttlSeconds: number): Promise<{ keys: LeasedKeys } | { held: ReadonlyMap<string, string> }> {
    for (const key of keys) checkKey(key);
    const { value: answer } = await this.#call(`lease ${keys[0] ?? ''}${keys.length > 1 ? ` (+${keys.length - 1})` : ''}`, async (client) => {
      const lease = client.lease(ttlSeconds);
      const id = await lease.grant();
      // etcd caps the operations of one transaction (128 by default): larger sets go in chunks
      // under the same lease, and a refused chunk revokes the lease, which undoes the others.
      for (let start = 0; start < keys.length; start += LEASE_CHUNK) {
        const chunk = keys.slice(start, start + LEASE_CHUNK);
        let compare = client.if(chunk[0] as string, 'Create', '==', 0);
        for (const key of chunk.slice(1)) compare = compare.and(key, 'Create', '==', 0);
        const response = await compare
          .then(...chunk.map((key) => client.put(key).value(value).lease(id)))
          .else(...chunk.map((key) => client.get(key)))
          .commit();
        if (!response.succeeded) {
          await lease.revoke().catch(() => undefined);
          const held = new Map<string, string>();
          response.responses.forEach((r, i) => {
            const kv = r.response_range?.kvs[0];
            if (kv !== undefined) held.set(chunk[i] as string, kv.value.toString('utf8'));
          });
          return { held };
        }
      }
      let released = false;
      return {
        keys: {
          async release() {
            if (released) return;
            released = true;
            await lease.revoke();
          },
          onLost(handler: (reason: string) => void) {
            lease.once('lost', (err: Error) => handler(err.message));
          },
        },
      };
    });
    return answer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) slot.client.close();
  }
}

/**
 * An etcd-backed control plane with mTLS and in-order failover. Nothing is dialled until the
 * first call; the TLS material is checked here (a key that does not match the certificate, or
 * text that is not PEM, is a UserError now rather than a failed call later).
 */
export function createEtcdControlPlane(options: EtcdControlPlaneOptions): ControlPlane & ControlPlaneLeases {
  if (options.endpoints.length === 0) throw new UserError('no etcd endpoint given');
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_ETCD_CALL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UserError(`etcd call timeout ${timeoutMs} ms is not positive`);
  consumeIpServernameWarning();
  const credentials = {
    rootCertificate: toBuffer(options.tls.caChain),
    certChain: toBuffer(options.tls.clientCert),
    privateKey: options.tls.clientKey.reveal(),
  };
  const slots: Slot[] = [];
  try {
    for (const endpoint of options.endpoints) {
      checkAddress(endpoint.address);
      const serverName = endpoint.serverName ?? options.serverName;
      const client = new Etcd3({
        hosts: `https://${endpoint.address}`,
        credentials,
        ...(serverName === undefined ? {} : { grpcOptions: { 'grpc.ssl_target_name_override': serverName } }),
        faultHandling: { host: () => passThrough, global: passThrough },
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      });
      slots.push({ endpoint, label: endpoint.label ?? endpoint.address, client });
    }
  } catch (err) {
    for (const slot of slots) slot.client.close();
    if (err instanceof UserError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new UserError(`the etcd client certificate, key or CA chain cannot be used: ${detail}`, {
      hints: ['expected PEM text; the key must belong to the certificate'],
    });
  }
  return new EtcdControlPlane(slots, timeoutMs);
}
