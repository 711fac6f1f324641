import { createHmac, hkdfSync, scrypt } from 'node:crypto';
import { inspect } from 'node:util';
import { UserError } from '../../domain/errors.js';
import { secretNameProblem } from '../../domain/names.js';
import type { SecretValue } from '../../domain/secret-value.js';
import type { RemoteCommand, RemoteHost } from '../../ports/remote-host.js';
import {
  encryptCommand,
  formatManifest,
  parseManifest,
  parseState,
  PRE_BUILD_DIR,
  removeCommand,
  SCRIPT_NAME,
  SECRETS_DIR,
  stateCommand,
  writeManifestCommand,
  writePreBuildCommand,
  type DirState,
} from '../../remote/secrets.js';
import { HostStepFailed } from '../remote/fanout.js';
import { outputTail } from '../remote/output-lines.js';

/**
 * Where a value goes: `credential` is encrypted with systemd-creds into /root/secrets, `pre-build`
 * is written as plaintext to /run/keys for Nix to read during the build. Upstream substitutes
 * placeholders differently for the two (no `localhost.*` in credentials), so the caller is told.
 */
export type SecretUse = 'credential' | 'pre-build';

/**
 * The key of the hashes kept on nodes. The manifest on a node must tell "this secret changed"
 * without letting whoever reads it test guesses of a weak secret offline, so each entry is an
 * HMAC-SHA256 under a key the node never sees:
 *
 *   root     = scrypt(SECRETS_PASS, salt "nix-infra/secrets-sync/manifest-key/v1", N=2^15, r=8, p=1)
 *   node key = HKDF-SHA256(root, salt "", info "node:<node name>"), 32 bytes
 *   entry    = HMAC-SHA256(node key, "<use>\0<name>\0" + value), hex
 *
 * scrypt makes each guess of the password as expensive as for the local store; the node name in
 * the key means equal values on two nodes do not have equal hashes, and the secret name in the
 * message means equal values under two names on one node do not either. Derive it once per run.
 */
export class ManifestKey {
  readonly #root: Buffer;

  private constructor(root: Buffer) {
    this.#root = root;
  }

  static async derive(password: SecretValue | undefined): Promise<ManifestKey> {
    if (password === undefined || password.byteLength === 0) {
      throw new UserError('deploying secrets needs SECRETS_PASS: it keys the hashes nix-infra keeps on each node', {
        hints: ['Set SECRETS_PASS in the environment or in .env, or run without --batch to be prompted.'],
      });
    }
    const root = await new Promise<Buffer>((resolve, reject) =>
      scrypt(password.reveal(), 'nix-infra/secrets-sync/manifest-key/v1', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
        err ? reject(err) : resolve(key),
      ),
    );
    return new ManifestKey(root);
  }

  /** The HMAC of one value as the manifest of `node` records it. */
  hash(node: string, use: SecretUse, name: string, value: SecretValue): string {
    const nodeKey = Buffer.from(hkdfSync('sha256', this.#root, Buffer.alloc(0), `node:${node}`, 32));
    const hmac = createHmac('sha256', nodeKey).update(`${use}\0${name}\0`).update(value.reveal()).digest('hex');
    nodeKey.fill(0);
    return hmac;
  }

  toString(): string {
    return '[REDACTED:manifest-key]';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export interface SecretsSyncRequest {
  /** Secret names the node's files reference (`[%%secrets/<name>%%]`). */
  readonly secrets: readonly string[];
  /**
   * Names referenced as `[%%pre-build-secrets/<name>%%]`: written as plaintext to
   * /run/keys/<name> and deployed to /root/secrets like the others.
   */
  readonly preBuild: readonly string[];
  /** The value to deploy, placeholders already substituted. Called for every name before anything is sent. */
  readonly valueFor: (name: string, use: SecretUse) => Promise<SecretValue>;
  readonly key: ManifestKey;
  /** What was already read of the two folders (see secretsStateProbes); read again when absent. */
  readonly known?: KnownSecretsState;
}

export interface KnownSecretsState {
  readonly credentials?: DirState;
  readonly preBuild?: DirState;
}

/**
 * The reads syncSecrets starts with, for a caller that batches them with its own (one round trip
 * instead of two). /root/secrets counts as known only when it exists with mode 0700 already;
 * otherwise the sync creates and fixes it first, as without these.
 */
export function secretsStateProbes(): RemoteCommand[] {
  const credentials = stateCommand(SECRETS_DIR, false);
  if (!('argv' in credentials)) throw new Error('internal: state command is not an argv');
  return [
    { argv: ['sh', '-c', '[ "$(stat -c %a -- "$1" 2>/dev/null)" = 700 ] || exit 3; shift; exec "$@"', SCRIPT_NAME, SECRETS_DIR, ...credentials.argv] },
    stateCommand(PRE_BUILD_DIR, false),
  ];
}

/** secretsStateProbes' results (exit status and stdout each), as syncSecrets takes them. */
export function knownSecretsState(results: readonly { readonly exitCode: number; readonly stdout: Buffer }[]): KnownSecretsState {
  const [credentials, preBuild] = results;
  return {
    ...(credentials?.exitCode === 0 ? { credentials: parseState(credentials.stdout) } : {}),
    ...(preBuild?.exitCode === 0 ? { preBuild: parseState(preBuild.stdout) } : {}),
  };
}

export interface DirSyncResult {
  /** Written to the node in this run: new, changed, or missing there. */
  readonly sent: readonly string[];
  /** Already on the node with this value. */
  readonly unchanged: readonly string[];
  /** Deleted from the node: no longer referenced. */
  readonly removed: readonly string[];
}

export interface SecretsSyncResult extends DirSyncResult {
  /** The same for /run/keys. */
  readonly preBuild: DirSyncResult;
}

interface Wanted {
  readonly value: SecretValue;
  readonly hash: string;
}

/**
 * Brings a node's secrets in line with what its files reference, over one connection.
 *
 * /root/secrets: each secret is piped through the channel's stdin into
 * `systemd-creds encrypt --name=<name>`, so plaintext is never in argv and never in a file there.
 * Only secrets whose keyed hash differs from the node's manifest (or whose file is missing) are
 * sent. Every other regular file or symlink with a secret name is removed, as upstream did: the
 * directory belongs to nix-infra. Entries whose names are not secret names (dot files, our
 * temporaries, hand-made oddities) and directories are left alone.
 *
 * /run/keys: pre-build secrets as plaintext, 0400. That folder is shared with other tools, so only
 * names this sync wrote (its manifest there) are ever removed. Being tmpfs, a reboot clears keys
 * and manifest together, and the next sync writes them again.
 *
 * Order of writes, so that a run cut off anywhere is repaired by the next one: the manifest first
 * loses the entries about to change, then values are written, stale ones removed, and finally the
 * new hashes recorded. A hash is therefore never recorded for a value that is not on the node.
 *
 * Upstream's netrc special case (appending `netrc-file = /run/keys/<name>` to /etc/nix/nix.conf
 * and restarting nix-daemon) is left out: on NixOS that file is a read-only link into the store,
 * so the append fails, and the supported way is `nix.settings.netrc-file =
 * "/run/keys/[%%pre-build-secrets/<name>%%]"` in the node's file.
 */
export async function syncSecrets(host: RemoteHost, request: SecretsSyncRequest): Promise<SecretsSyncResult> {
  const preBuild = uniqueNames(request.preBuild);
  const credentials = uniqueNames([...request.secrets, ...request.preBuild]);
  const node = host.target.name;

  // Inputs first: every value and hash before the first remote command.
  const wantedCredentials = new Map<string, Wanted>();
  for (const name of credentials) {
    const value = await request.valueFor(name, 'credential');
    wantedCredentials.set(name, { value, hash: request.key.hash(node, 'credential', name, value) });
  }
  const wantedPreBuild = new Map<string, Wanted>();
  for (const name of preBuild) {
    const value = await request.valueFor(name, 'pre-build');
    wantedPreBuild.set(name, { value, hash: request.key.hash(node, 'pre-build', name, value) });
  }

  const regular = await syncDir(host, {
    dir: SECRETS_DIR,
    create: true,
    known: request.known?.credentials,
    wanted: wantedCredentials,
    send: (name) => encryptCommand(name),
    removable: (state) => state.entries.filter((e) => (e.type === 'f' || e.type === 'l') && secretNameProblem(e.name) === undefined).map((e) => e.name),
  });
  const pre = await syncDir(host, {
    dir: PRE_BUILD_DIR,
    // Shared with other tools: created (by the first write) only when there is a key to write.
    create: false,
    known: request.known?.preBuild,
    wanted: wantedPreBuild,
    send: (name) => writePreBuildCommand(name),
    removable: (state) => {
      const recorded = parseManifest(state.manifest);
      return state.entries.filter((e) => (e.type === 'f' || e.type === 'l') && recorded.has(e.name)).map((e) => e.name);
    },
  });
  return { ...regular, preBuild: pre };
}

/** Validated and deduplicated; the first invalid name stops everything before any remote command. */
function uniqueNames(names: readonly string[]): string[] {
  for (const name of names) {
    const problem = secretNameProblem(name);
    if (problem !== undefined) throw new UserError(`invalid secret name ${JSON.stringify(name)}: ${problem}`);
  }
  return [...new Set(names)].sort(byCodeUnit);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface DirPlan {
  readonly dir: string;
  /** Create the directory (0700) even when nothing is written to it. */
  readonly create: boolean;
  /** The folder as already read in this run, if it was. */
  readonly known: DirState | undefined;
  readonly wanted: ReadonlyMap<string, Wanted>;
  readonly send: (name: string) => RemoteCommand;
  /** Names in the directory that this sync may delete when they are not wanted. */
  readonly removable: (state: DirState) => string[];
}

async function syncDir(host: RemoteHost, plan: DirPlan): Promise<DirSyncResult> {
  const state = plan.known ?? parseState((await run(host, stateCommand(plan.dir, plan.create), `cannot read ${plan.dir}`)).stdout);
  const recorded = parseManifest(state.manifest);
  const files = new Set(state.entries.filter((e) => e.type === 'f').map((e) => e.name));

  const unchanged: string[] = [];
  const toSend: string[] = [];
  for (const [name, { hash }] of plan.wanted) {
    if (recorded.get(name) === hash && files.has(name)) unchanged.push(name);
    else toSend.push(name);
  }
  const toRemove = [...new Set(plan.removable(state))].filter((name) => !plan.wanted.has(name)).sort(byCodeUnit);

  // Forget the hashes of everything about to change before changing it.
  const kept = new Map(unchanged.map((name) => [name, recorded.get(name) as string]));
  let onNode = state.manifest;
  const writeManifest = async (hashes: ReadonlyMap<string, string>): Promise<void> => {
    const text = formatManifest(hashes);
    // No manifest and nothing to record: leave the node as it is.
    if (text === onNode || (hashes.size === 0 && onNode === '')) return;
    await run(host, writeManifestCommand(plan.dir), `cannot write the manifest in ${plan.dir}`, Buffer.from(text, 'utf8'));
    onNode = text;
  };
  await writeManifest(kept);

  for (const name of toSend) {
    const wanted = plan.wanted.get(name) as Wanted;
    await run(host, plan.send(name), `cannot write secret ${name} to ${plan.dir}`, wanted.value);
    kept.set(name, wanted.hash);
  }
  if (toRemove.length > 0) await run(host, removeCommand(plan.dir, toRemove), `cannot remove old secrets from ${plan.dir}`);
  await writeManifest(kept);

  return { sent: toSend, unchanged, removed: toRemove };
}

async function run(host: RemoteHost, command: RemoteCommand, failure: string, stdin?: Buffer | SecretValue) {
  const result = await host.exec(command, stdin === undefined ? {} : { stdin });
  if (result.exitCode !== 0) {
    const status = result.exitCode === null ? `signal ${result.signal ?? 'unknown'}` : `exit ${result.exitCode}`;
    // The scripts print names and paths only; values travel on stdin and are never echoed.
    throw new HostStepFailed(`${failure} (${status})`, outputTail(result.stdout, result.stderr));
  }
  return result;
}
