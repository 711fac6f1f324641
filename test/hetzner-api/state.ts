// The fake cloud's in-memory model: servers, SSH keys, placement groups and the asynchronous
// actions that move servers between states. No I/O happens here; the HTTP layer and the hooks live
// elsewhere, so this file can be reasoned about as plain data plus a clock.

import { createHash, randomBytes } from 'node:crypto';
import type { Datacenter, Image, ServerType } from './catalog.js';
import { ApiError, notFound, notUnique } from './errors.js';

export type ServerStatus = 'initializing' | 'running' | 'off';
export type ActionStatus = 'running' | 'success' | 'error';

export interface ServerRecord {
  readonly id: number;
  readonly name: string;
  status: ServerStatus;
  readonly created: string;
  readonly labels: Record<string, string>;
  readonly serverType: ServerType;
  readonly datacenter: Datacenter;
  readonly image: Image;
  ipv4: string | null;
  readonly ipv6: string | null;
  readonly wantsIpv4: boolean;
  readonly placementGroupId: number | null;
  readonly sshKeyIds: readonly number[];
}

export interface ActionRecord {
  readonly id: number;
  readonly command: string;
  status: ActionStatus;
  readonly startedAt: number;
  finishedAt: number | null;
  /** Clock time at which a running action succeeds. */
  readonly dueAt: number;
  readonly resources: readonly { readonly id: number; readonly type: string }[];
  error: { code: string; message: string } | null;
  /** State change the action stands for, applied when it succeeds (e.g. the server starts). */
  readonly onSuccess?: () => void;
}

export interface SshKeyRecord {
  readonly id: number;
  readonly name: string;
  readonly fingerprint: string;
  readonly publicKey: string;
  readonly labels: Record<string, string>;
  readonly created: string;
}

export interface PlacementGroupRecord {
  readonly id: number;
  readonly name: string;
  readonly type: 'spread';
  readonly labels: Record<string, string>;
  readonly created: string;
}

/** Picks a free public IPv4; undefined when none is left. */
export type Ipv4Allocator = (taken: ReadonlySet<string>) => string | undefined;

/**
 * Default allocator: the three documentation ranges (RFC 5737), which are never routed, so a
 * client that tries to connect to a fake server cannot reach anybody's real machine.
 */
export function testNetAllocator(): Ipv4Allocator {
  const prefixes = ['203.0.113', '198.51.100', '192.0.2'];
  return (taken) => {
    for (const prefix of prefixes) {
      for (let host = 1; host <= 254; host += 1) {
        const ip = `${prefix}.${host}`;
        if (!taken.has(ip)) return ip;
      }
    }
    return undefined;
  };
}

/** ISO-8601 with an explicit offset and whole seconds, the form the API's examples use. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** Documented limit: a spread placement group holds at most 10 servers. */
export const PLACEMENT_GROUP_LIMIT = 10;

export interface StateOptions {
  /** Milliseconds; inject a manual clock to make action completion deterministic. */
  readonly now: () => number;
  /** How long a server create/delete action runs before it succeeds. */
  readonly actionMs: number;
  readonly allocateIpv4: Ipv4Allocator;
}

export interface NewServer {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly serverType: ServerType;
  readonly datacenter: Datacenter;
  readonly image: Image;
  readonly wantsIpv4: boolean;
  readonly wantsIpv6: boolean;
  readonly placementGroupId: number | null;
  readonly sshKeyIds: readonly number[];
}

/** MD5 over the key blob, colon-separated: the fingerprint format the API reports for SSH keys. */
export function fingerprintOf(publicKey: string): string | undefined {
  const match = /^(ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/.exec(publicKey.trim());
  const blob = match?.[2];
  if (blob === undefined) return undefined;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 16) return undefined;
  return createHash('md5').update(bytes).digest('hex').match(/../g)?.join(':');
}

export class HetznerState {
  readonly servers = new Map<number, ServerRecord>();
  readonly sshKeys = new Map<number, SshKeyRecord>();
  readonly placementGroups = new Map<number, PlacementGroupRecord>();
  readonly actions = new Map<number, ActionRecord>();
  private lastId = 0;

  constructor(private readonly options: StateOptions) {}

  now(): number {
    return this.options.now();
  }

  /** Forgets everything, ids included, so a reset server replays identically. */
  reset(): void {
    this.servers.clear();
    this.sshKeys.clear();
    this.placementGroups.clear();
    this.actions.clear();
    this.lastId = 0;
  }

  private nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  private isoNow(): string {
    return iso(this.now());
  }

  // ---- actions ---------------------------------------------------------------------------------

  /** Lets every action whose time has come succeed; called before each request is answered. */
  settle(): void {
    const now = this.now();
    for (const action of this.actions.values()) {
      if (action.status === 'running' && action.dueAt <= now) this.succeed(action, now);
    }
  }

  /** Completes every running action at once, for tests that do not want to move a clock. */
  completeActions(): number {
    let count = 0;
    for (const action of this.actions.values()) {
      if (action.status === 'running') {
        this.succeed(action, Math.max(this.now(), action.startedAt));
        count += 1;
      }
    }
    return count;
  }

  /**
   * Makes a running action fail, so tests can exercise a client's error path for actions. A
   * failed create_server takes the server's start_server with it (a server that was never made
   * cannot start) and leaves the server `off` (modelled; the API documents neither outcome).
   */
  failAction(id: number, code = 'action_failed', message = 'Action failed'): void {
    const action = this.actions.get(id);
    if (!action) throw notFound('action');
    action.status = 'error';
    action.finishedAt = this.now();
    action.error = { code, message };
    if (action.command !== 'create_server') return;
    for (const resource of action.resources.filter((r) => r.type === 'server')) {
      const server = this.servers.get(resource.id);
      if (server) server.status = 'off';
      for (const next of this.actionsFor('server', resource.id)) {
        if (next.command === 'start_server' && next.status === 'running') this.failAction(next.id, 'action_failed', 'server creation failed');
      }
    }
  }

  private succeed(action: ActionRecord, at: number): void {
    action.status = 'success';
    action.finishedAt = at;
    action.onSuccess?.();
  }

  private startAction(command: string, resources: ActionRecord['resources'], onSuccess?: () => void): ActionRecord {
    const startedAt = this.now();
    const action: ActionRecord = {
      id: this.nextId(),
      command,
      status: 'running',
      startedAt,
      finishedAt: null,
      dueAt: startedAt + this.options.actionMs,
      resources,
      error: null,
      onSuccess,
    };
    this.actions.set(action.id, action);
    return action;
  }

  actionsFor(type: string, id: number): ActionRecord[] {
    return [...this.actions.values()].filter((action) => action.resources.some((r) => r.type === type && r.id === id));
  }

  // ---- servers ---------------------------------------------------------------------------------

  /**
   * Records a new server (no IPv4 yet, so a backing hook may still provide one). Name uniqueness and
   * the placement-group limit are checked here, before any await, so concurrent creates cannot both
   * pass the check.
   */
  addServer(spec: NewServer): ServerRecord {
    if ([...this.servers.values()].some((server) => server.name === spec.name)) {
      throw notUnique('name', 'server name is already used');
    }
    if (spec.placementGroupId !== null) {
      const members = [...this.servers.values()].filter((server) => server.placementGroupId === spec.placementGroupId);
      if (members.length >= PLACEMENT_GROUP_LIMIT) {
        // POST /servers documents 422 `placement_error` ("An error during the placement occurred");
        // `resource_limit_exceeded` (403) is the account-quota error, not the per-group limit.
        throw new ApiError(422, 'placement_error', `placement group already contains ${PLACEMENT_GROUP_LIMIT} servers`, {
          placement_group: spec.placementGroupId,
        });
      }
    }
    const id = this.nextId();
    const record: ServerRecord = {
      id,
      name: spec.name,
      status: 'initializing',
      created: this.isoNow(),
      labels: { ...spec.labels },
      serverType: spec.serverType,
      datacenter: spec.datacenter,
      image: spec.image,
      ipv4: null,
      // 2001:db8::/32 is the IPv6 documentation prefix, for the same reason as the IPv4 ranges.
      ipv6: spec.wantsIpv6 ? `2001:db8:${id.toString(16)}::/64` : null,
      wantsIpv4: spec.wantsIpv4,
      placementGroupId: spec.placementGroupId,
      sshKeyIds: [...spec.sshKeyIds],
    };
    this.servers.set(id, record);
    return record;
  }

  /** Gives the server the backing host's address, or the next free test address. */
  assignIpv4(record: ServerRecord, fromBacking: string | undefined): void {
    if (!record.wantsIpv4) return;
    const taken = new Set([...this.servers.values()].flatMap((server) => (server.ipv4 === null ? [] : [server.ipv4])));
    const ip = fromBacking ?? this.options.allocateIpv4(taken);
    if (ip === undefined) {
      this.servers.delete(record.id);
      throw new ApiError(412, 'resource_unavailable', 'no public IPv4 address is available');
    }
    record.ipv4 = ip;
  }

  /**
   * The create_server action, plus the start_server one clients wait for (upstream polls it) unless
   * the body asked not to start; the server leaves `initializing` when the last of them succeeds.
   */
  startServer(record: ServerRecord, startAfterCreate: boolean): { action: ActionRecord; nextActions: ActionRecord[] } {
    const resources = [{ id: record.id, type: 'server' }];
    if (!startAfterCreate) {
      const action = this.startAction('create_server', resources, () => {
        record.status = 'off';
      });
      return { action, nextActions: [] };
    }
    const action = this.startAction('create_server', resources);
    const start = this.startAction('start_server', resources, () => {
      record.status = 'running';
    });
    return { action, nextActions: [start] };
  }

  getServer(id: number): ServerRecord {
    const server = this.servers.get(id);
    if (!server) throw notFound('server');
    return server;
  }

  /** Deleting is immediate upstream ("no longer accessible"); the action only reports completion. */
  deleteServer(id: number): ActionRecord {
    this.getServer(id);
    this.servers.delete(id);
    return this.startAction('delete_server', [{ id, type: 'server' }]);
  }

  // ---- SSH keys --------------------------------------------------------------------------------

  addSshKey(name: string, publicKey: string, fingerprint: string, labels: Record<string, string>): SshKeyRecord {
    const keys = [...this.sshKeys.values()];
    if (keys.some((key) => key.name === name)) throw notUnique('name', 'SSH key with the same name already exists');
    if (keys.some((key) => key.fingerprint === fingerprint)) {
      throw notUnique('public_key', 'SSH key with the same fingerprint already exists');
    }
    const record: SshKeyRecord = { id: this.nextId(), name, fingerprint, publicKey: publicKey.trim(), labels: { ...labels }, created: this.isoNow() };
    this.sshKeys.set(record.id, record);
    return record;
  }

  getSshKey(id: number): SshKeyRecord {
    const key = this.sshKeys.get(id);
    if (!key) throw notFound('SSH key');
    return key;
  }

  deleteSshKey(id: number): void {
    this.getSshKey(id);
    this.sshKeys.delete(id);
  }

  // ---- placement groups ------------------------------------------------------------------------

  addPlacementGroup(name: string, labels: Record<string, string>): PlacementGroupRecord {
    if ([...this.placementGroups.values()].some((group) => group.name === name)) {
      throw notUnique('name', 'placement group name is already used');
    }
    const record: PlacementGroupRecord = { id: this.nextId(), name, type: 'spread', labels: { ...labels }, created: this.isoNow() };
    this.placementGroups.set(record.id, record);
    return record;
  }

  getPlacementGroup(id: number): PlacementGroupRecord {
    const group = this.placementGroups.get(id);
    if (!group) throw notFound('placement group');
    return group;
  }

  deletePlacementGroup(id: number): void {
    this.getPlacementGroup(id);
    this.placementGroups.delete(id);
  }

  // ---- JSON views (the documented shapes) ------------------------------------------------------

  actionJson(action: ActionRecord): Record<string, unknown> {
    // Progress grows with elapsed time, so a client polling `progress >= 100` sees it move.
    const elapsed = this.now() - action.startedAt;
    const span = Math.max(1, action.dueAt - action.startedAt);
    const progress = action.status === 'running' ? Math.min(99, Math.floor((elapsed / span) * 100)) : 100;
    return {
      id: action.id,
      command: action.command,
      status: action.status,
      progress: Math.max(0, progress),
      started: iso(action.startedAt),
      finished: action.finishedAt === null ? null : iso(action.finishedAt),
      resources: action.resources.map((resource) => ({ ...resource })),
      error: action.error === null ? null : { ...action.error },
    };
  }

  placementGroupJson(group: PlacementGroupRecord): Record<string, unknown> {
    const members = [...this.servers.values()].filter((server) => server.placementGroupId === group.id).map((server) => server.id);
    return { id: group.id, name: group.name, type: group.type, labels: { ...group.labels }, created: group.created, servers: members };
  }

  sshKeyJson(key: SshKeyRecord): Record<string, unknown> {
    return { id: key.id, name: key.name, fingerprint: key.fingerprint, public_key: key.publicKey, labels: { ...key.labels }, created: key.created };
  }

  serverJson(server: ServerRecord): Record<string, unknown> {
    const group = server.placementGroupId === null ? undefined : this.placementGroups.get(server.placementGroupId);
    return {
      id: server.id,
      name: server.name,
      status: server.status,
      created: server.created,
      labels: { ...server.labels },
      public_net: {
        ipv4: server.ipv4 === null ? null : { id: server.id, ip: server.ipv4, blocked: false, dns_ptr: `static.${server.ipv4}.clients.example` },
        ipv6: server.ipv6 === null ? null : { id: server.id, ip: server.ipv6, blocked: false, dns_ptr: [] },
        floating_ips: [],
        firewalls: [],
      },
      private_net: [],
      server_type: server.serverType,
      datacenter: server.datacenter,
      image: server.image,
      iso: null,
      rescue_enabled: false,
      locked: false,
      backup_window: null,
      outgoing_traffic: 0,
      ingoing_traffic: 0,
      included_traffic: 21990232555520,
      protection: { delete: false, rebuild: false },
      volumes: [],
      load_balancers: [],
      primary_disk_size: server.serverType.disk,
      placement_group: group ? this.placementGroupJson(group) : null,
    };
  }

  /** A root password is only returned when no SSH key was given, as upstream does. */
  rootPasswordFor(server: ServerRecord): string | null {
    return server.sshKeyIds.length > 0 ? null : randomBytes(12).toString('base64url');
  }
}
