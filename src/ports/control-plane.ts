/**
 * The cluster's control plane: etcd, seen as a small key-value store. Keys are validated by the
 * implementation before anything is sent (`src/core/control-plane/keys.ts`), so a bad key is a
 * `UserError` and never a request. Values are UTF-8 text (everything nix-infra and the templates
 * store is JSON or plain text).
 *
 * Every call may be answered by any of the configured endpoints: an implementation tries them in
 * order, skips the ones that do not answer, and fails with one error naming every endpoint and
 * its reason when none did. Writes are idempotent (put, delete, compare-and-put), so a call that
 * timed out on one endpoint can safely be repeated on the next.
 */

/** What a compare-and-put did. */
export type PutOutcome = 'created' | 'updated' | 'unchanged';

export interface PutIfChangedResult {
  readonly outcome: PutOutcome;
  /** The value before the write (`updated` only). */
  readonly previous?: string;
}

/** One endpoint that did not answer, and why (in words an operator can act on). */
export interface EndpointFailure {
  readonly endpoint: string;
  readonly reason: string;
}

export interface ControlPlaneMember {
  /** etcd's member id, as a decimal string (64-bit). */
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLeader: boolean;
  readonly isLearner: boolean;
}

export interface ControlPlaneHealth {
  /** The endpoint that answered (its label, e.g. `etcd001 via 127.0.0.1:40123`). */
  readonly answeredBy: string;
  /** Endpoints tried before it that did not answer. */
  readonly skipped: readonly EndpointFailure[];
  /** etcd server version of the member that answered. */
  readonly version: string;
  /** Leader member id; `"0"` when the answering member knows no leader (no quorum). */
  readonly leaderId: string;
  readonly members: readonly ControlPlaneMember[];
}

export interface ControlPlane {
  /** The endpoints' labels, in the order they are tried. */
  readonly endpoints: readonly string[];
  /** The value of `key`, or undefined when it does not exist. */
  get(key: string): Promise<string | undefined>;
  /** Every key starting with `prefix`, sorted by key (byte order, as etcd sorts). */
  getPrefix(prefix: string): Promise<ReadonlyMap<string, string>>;
  put(key: string, value: string): Promise<void>;
  /**
   * In one transaction: if `key` already holds exactly `value`, nothing is written
   * (`unchanged`); otherwise `value` is written and the previous value (if any) returned.
   */
  putIfChanged(key: string, value: string): Promise<PutIfChangedResult>;
  /** Deletes `key`; returns how many keys were deleted (0 or 1). */
  delete(key: string): Promise<number>;
  /**
   * Deletes every key under `prefix`; returns how many. The prefix must name at least one whole
   * segment and end with `/` (`/cluster/services/`), so a typo cannot empty the store.
   */
  deletePrefix(prefix: string): Promise<number>;
  /** The member list and leader, as seen by the first endpoint that answers. */
  health(): Promise<ControlPlaneHealth>;
  /** Closes every connection; later calls fail. */
  close(): Promise<void>;
}

/** Keys held under one etcd lease: they exist while the lease is kept alive. */
export interface LeasedKeys {
  /** Revokes the lease, which deletes every key under it. Safe to call twice. */
  release(): Promise<void>;
  /** Called once if the lease is lost (keep-alives failed past its TTL): the keys are gone. */
  onLost(handler: (reason: string) => void): void;
}

/** Leases of the control plane, for locks that must expire when their holder dies. */
export interface ControlPlaneLeases {
  /**
   * Creates all of `keys` with `value` under one new lease of `ttlSeconds`, kept alive until
   * released; all or nothing: when any key exists, none is created and `held` maps each
   * existing key to its value.
   */
  createLeased(keys: readonly string[], value: string, ttlSeconds: number): Promise<{ readonly keys: LeasedKeys } | { readonly held: ReadonlyMap<string, string> }>;
}
