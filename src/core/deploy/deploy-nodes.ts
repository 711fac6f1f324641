import { OperationFailed, UserError } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { LocalFiles } from '../../ports/local-files.js';
import type { HostTarget, RemoteHost } from '../../ports/remote-host.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { Workspace } from '../../ports/workspace.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { rebuild } from '../cluster/node-setup.js';
import type { DeployGoal } from '../../domain/deploy-goal.js';
import { describeDryActivation, type DryActivation } from '../../remote/dry-activate.js';
import { forEachHost, HostStepFailed, reusingConnections, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { publicKeyOf } from '../remote/node-identity.js';
import { nixSystemFor } from '../../remote/host-facts.js';
import type { NodeFacts } from '../../remote/file-set.js';
import { applyFileSet, readNodeFacts } from './file-transfer.js';
import { secretsPassword } from '../secrets/secrets-password.js';
import { lockStore } from '../secrets/store-lock.js';
import { prepareDeployInputs, type DeployInputs } from './deploy-inputs.js';
import { substituteSecretValue, type DeployMode, type NodeMap } from './placeholders.js';
import { buildDeployPlan, selectParts, type DeployPlan } from './plan.js';
import { checkDeployInputs, planParams } from './preflight.js';
import { DecryptOnce } from './secret-values.js';
import { knownSecretsState, ManifestKey, secretsStateProbes, syncSecrets, type KnownSecretsState, type SecretsSyncResult } from './secrets-sync.js';
import { partInputsHash } from './inputs-hash.js';
import { recordDeploy } from '../status/record-deploy.js';
import { NODE_STATE_PATH } from '../../remote/status-probe.js';

export interface DeployDeps extends FanoutDeps {
  readonly ctx: CoreContext;
  readonly project: Workspace;
  readonly local: LocalFiles;
  readonly store: SecretStore;
  /** Who deploys, with which CLI: recorded on each node for `status`. */
  readonly recorder: { readonly operator: string; readonly cliVersion: string };
}

export interface DeployParams {
  readonly mode: DeployMode;
  readonly targets: readonly HostTarget[];
  /** Every server: public IPv4 and (cluster) overlay IP, for the node map. */
  readonly nodes: NodeMap;
  /** The release to render; undefined: the release the node runs (deploy-apps, as upstream). */
  readonly nixosVersion?: string;
  readonly nodeModule: string;
  /**
   * What goes to the nodes: `system` = configuration.nix, flake.nix, the node type, modules/
   * (`fleet update`); `apps` = the node file, app_modules/ and secrets (`deploy-apps`); `all` =
   * both (`fleet init-machine`).
   */
  readonly parts: 'system' | 'apps' | 'all';
  /** Cluster: the control nodes as etcdClusterText renders them. */
  readonly etcdCluster?: string;
  /** Where nodes/<node>.nix comes from (upstream's --test-dir); the project by default. */
  readonly nodeFileSource?: Workspace;
  /** `nixos-rebuild <goal>` after the upload; undefined: no rebuild. */
  readonly goal: DeployGoal | undefined;
  readonly concurrency: number;
  /**
   * `warn`: a node or overlay IP the node file or a secret names that does not exist yet is a
   * warning and renders as a marker that fails when used (upstream's create flow); default error.
   */
  readonly forwardReferences?: 'error' | 'warn';
  /** Settled by the caller before its own first remote change (init-node); else asked here, before any connection. */
  readonly inputs?: DeployInputs;
  /** Any host that cannot be planned stops the deploy everywhere (how deploys behaved before per-host reachability). */
  readonly allOrNothing?: boolean;
  /** Read the Dart tool's legacy secret files (each one used is named in a warning); refused otherwise. */
  readonly allowLegacySecrets?: boolean;
}

export interface DeployResult {
  /** Files in the node's set. */
  readonly files: number;
  /** Of those, written in this run (new or different on the node). */
  readonly filesChanged: number;
  readonly removedAppModuleFiles: readonly string[];
  readonly secrets: { readonly sent: readonly string[]; readonly unchanged: readonly string[]; readonly removed: readonly string[] };
  readonly rebuilt: boolean;
  /** The goal nixos-rebuild ran with (absent: no rebuild). */
  readonly goal?: DeployGoal;
  /** dry-activate: the units activation would stop, restart, reload and start. */
  readonly wouldActivate?: DryActivation;
}

/** `nix-store.trusted-public-keys*` secrets: the keys `[%%nix-store.trusted-public-keys%%]` renders. */
export const TRUSTED_KEYS_PREFIX = 'nix-store.trusted-public-keys';

async function planFor(deps: DeployDeps, host: RemoteHost, params: DeployParams, facts: NodeFacts, trustedPublicKeys: readonly string[]): Promise<{ plan: DeployPlan; nixosVersion: string }> {
  const hwArch = nixSystemFor(facts.machine);
  if (hwArch === undefined) throw new HostStepFailed(`unsupported or unknown architecture ${JSON.stringify(facts.machine)}`);
  const sshPublicKey = await publicKeyOf(deps.local, host.target);
  let nixosVersion = params.nixosVersion;
  if (nixosVersion === undefined) {
    nixosVersion = /^(\d{2}\.\d{2})/.exec(facts.nixosVersion)?.[1];
    if (nixosVersion === undefined) throw new HostStepFailed(`cannot tell which NixOS release runs here (nixos-version said ${JSON.stringify(facts.nixosVersion)})`, ['pass --nixos-version']);
  }
  const plan = await buildDeployPlan(deps.project, planParams(params, host.target, { hwArch, nixosVersion }, sshPublicKey, trustedPublicKeys));
  return { plan, nixosVersion };
}

/** A problem with the project or the command (not with reaching a host): it stops the whole deploy. */
function isInputError(err: unknown): err is UserError {
  return err instanceof UserError && !(err instanceof OperationFailed);
}

/** One host, planned: what it gets, what it has, and its secret values (placeholders resolved). */
interface Prepared {
  readonly host: RemoteHost;
  readonly plan: DeployPlan;
  /** The release the plan was rendered for (recorded on the node, so status renders the same). */
  readonly nixosVersion: string;
  /** The node's state.json as planning read it ('' when there is none). */
  readonly recordedState: string;
  readonly facts: NodeFacts;
  readonly values: ReadonlyMap<string, SecretValue>;
  /** The secrets folders as planning read them. */
  readonly secretsState: KnownSecretsState;
}

/**
 * Deploys the nodes in two phases. Planning (every host at once, each on its own): connect, one
 * read of the node's facts and files, the plan rendered (placeholders resolved, secret values
 * read and substituted). An input error on any host (a bad file, a missing secret) stops
 * everything before any node changes; a host that cannot be reached, or fails otherwise, is
 * reported failed with its cause while every other host goes on (with `allOrNothing`, any
 * failure stops everything, as before). Applying, per planned host: the changed files in one
 * stream (stale app_modules removed), the secrets (only changed ones sent, over stdin into
 * systemd-creds) and, when asked, `nixos-rebuild <goal>`.
 */
export async function deployNodes(deps: DeployDeps, params: DeployParams): Promise<HostOutcome<DeployResult>[]> {
  if (params.targets.length === 0) throw new UserError('no target given');
  // Held while secrets are read, to the end of planning: no rekey or store can switch the
  // password under the deploy, and a pending rekey stops it here.
  const storeLock = await lockStore(deps.store, 'deploy (reading secrets)');
  let reading: Awaited<ReturnType<typeof planAll>>;
  try {
    reading = await planAll(deps, params);
  } finally {
    await storeLock.release();
  }
  const { storeNames, planning, prepared, earlyKey, passwordOnce } = reading;
  const failedPlans = planning.filter((o) => !o.ok);
  if (failedPlans.length > 0 && params.allOrNothing === true) {
    // Nothing was deployed anywhere: a host whose own plan was fine is not "ok" either.
    const failedNames = failedPlans.map((o) => o.host).join(', ');
    return planning.map((o) => (o.ok ? { host: o.host, ok: false, error: `not deployed: planning failed on ${failedNames}`, durationMs: o.durationMs } : { ...o, value: undefined })) as HostOutcome<DeployResult>[];
  }

  // With secrets referenced or stored, the manifest key comes from the store's password. With
  // neither, no hash is ever recorded (nothing is wanted), and the sync only removes leftovers
  // from the nodes, so a fixed key serves and no password is asked for.
  const anySecrets = params.parts !== 'system' && ([...prepared.values()].some((p) => p.plan.secrets.length > 0) || storeNames.length > 0);
  const key =
    prepared.size === 0 ? undefined : await (earlyKey ?? ManifestKey.derive(anySecrets ? await passwordOnce() : new SecretValue('no-secrets', 'no secrets referenced')));

  const planned = params.targets.filter((t) => prepared.has(t.name));
  const opened = new Map([...prepared].map(([name, ready]) => [name, ready.host] as const));
  const applied = await forEachHost({ ...deps, connector: reusingConnections(deps.connector, opened) }, planned, params.concurrency, async (host) =>
    applyHost(deps, params, prepared.get(host.target.name) as Prepared, key as ManifestKey),
  );
  const byHost = new Map<string, HostOutcome<DeployResult>>(applied.map((o) => [o.host, o]));
  return planning.map((o) => byHost.get(o.host) ?? ({ ...o, value: undefined } as HostOutcome<DeployResult>));
}

/**
 * The planning phase (see deployNodes), with every secret read; the caller holds the store lock.
 * An input error on any host stops everything here.
 */
async function planAll(deps: DeployDeps, params: DeployParams) {
  const storeNames = (await deps.store.list()).map((e) => e.name);
  // Trusted keys only appear in node files, which a `system` deploy does not upload.
  const trustedNames = params.parts === 'system' ? [] : storeNames.filter((n) => n.startsWith(TRUSTED_KEYS_PREFIX));

  // Inputs first: the password (checked) and the referenced secrets, before any host is reached.
  const inputs =
    params.parts === 'system'
      ? { password: undefined }
      : (params.inputs ?? (await prepareDeployInputs({ ctx: deps.ctx, store: deps.store, nodeFileSource: params.nodeFileSource ?? deps.project }, { nodes: params.targets.map((t) => t.name) })));
  // Asked once (when inputs did not already settle it).
  let password: Promise<SecretValue> | undefined = inputs.password === undefined ? undefined : Promise.resolve(inputs.password);
  const passwordOnce = (): Promise<SecretValue> => (password ??= obtainPassword(deps.ctx, secretsPassword));
  const decrypted = new DecryptOnce(deps.store, passwordOnce, {
    allowLegacy: params.allowLegacySecrets === true,
    onLegacy: (name, format) =>
      deps.reporter.emit({ kind: 'warning', message: `using legacy secret file secrets/${name} (${format}); import it with \`nix-infra secrets import --name ${name}\`` }),
  });
  // The password check opened one v1 secret already: reading it again would cost another scrypt.
  if (inputs.witness !== undefined) decrypted.seed(inputs.witness.name, inputs.witness.value);
  // With secrets stored, the manifest key is derived from the password whatever the plans say
  // (see below), so it is derived while the hosts are planned (scrypt runs off the main thread).
  const earlyKey = params.parts !== 'system' && storeNames.length > 0 ? passwordOnce().then((p) => ManifestKey.derive(p)) : undefined;
  earlyKey?.catch(() => undefined); // awaited below; a planning failure must not leave it unhandled
  const trustedPublicKeys = await Promise.all(trustedNames.map(async (name) => (await decrypted.read(name)).reveal().toString('utf8').trim()));

  // Errors in the project itself, found without any host (an unreachable one cannot hide them).
  await checkDeployInputs(deps, params);

  const prepared = new Map<string, Prepared>();
  const inputErrors: { host: string; error: UserError }[] = [];
  // Forward references let through, shown once planning succeeded everywhere.
  const warnings: { host: string; message: string }[] = [];
  const prepare = async (host: RemoteHost): Promise<void> => {
    const name = host.target.name;
    // What the last deploy recorded rides along (status reads it; this deploy merges into it).
    const secretsProbes = params.parts === 'system' ? [] : secretsStateProbes();
    const probed = await readNodeFacts(host, params.nixosVersion === undefined, [...secretsProbes, { argv: ['cat', NODE_STATE_PATH] }]);
    const recorded = probed.extra[secretsProbes.length];
    const facts = probed.facts;
    const planned = await planFor(deps, host, params, facts, trustedPublicKeys);
    const plan = selectParts(planned.plan, name, params.parts);
    // Every secret value read and substituted before the first write anywhere.
    const placeholders = {
      mode: params.mode,
      nodes: params.nodes,
      localhost: { name, ipv4: host.target.address, overlayIp: params.nodes.get(name)?.overlayIp },
      ...(params.forwardReferences === undefined ? {} : { forwardReferences: params.forwardReferences }),
    };
    const warn = (message: string): void => void warnings.push({ host: name, message });
    plan.warnings.forEach(warn);
    const missing = plan.secrets.find((secret) => !storeNames.includes(secret));
    if (missing !== undefined) throw new UserError(`secret ${missing} is referenced but not stored`, { hints: [`store it with \`nix-infra secrets store --name ${missing}\``] });
    // Each secret decrypted once per run, whichever host asks first (DecryptOnce).
    const read = await Promise.all(plan.secrets.map(async (secret) => [secret, await decrypted.read(secret)] as const));
    const values = new Map<string, SecretValue>();
    for (const [secret, value] of read) {
      // A pre-build secret is one value in both places, resolved with the full map (localhost.* too).
      const kind = plan.preBuildSecrets.includes(secret) ? 'pre-build' : 'secret';
      values.set(secret, substituteSecretValue(value, kind, placeholders, warn));
    }
    prepared.set(name, { host, plan, nixosVersion: planned.nixosVersion, facts, values, secretsState: knownSecretsState(probed.extra.slice(0, secretsProbes.length)), recordedState: recorded?.exitCode === 0 ? recorded.stdout.toString('utf8') : '' });
  };
  const planning = await forEachHost(deps, params.targets, params.concurrency, async (host) => {
    try {
      await prepare(host);
    } catch (err) {
      if (isInputError(err)) inputErrors.push({ host: host.target.name, error: err });
      throw err;
    }
    return undefined;
  });
  decrypted.clear();

  const [firstInput, ...moreInput] = inputErrors;
  if (firstInput !== undefined) {
    throw new UserError(`${firstInput.host}: ${firstInput.error.message}; nothing was deployed`, {
      hints: [...firstInput.error.hints, ...moreInput.map((e) => `${e.host}: ${e.error.message}`)],
      exitCode: firstInput.error.exitCode,
    });
  }
  for (const w of warnings) deps.reporter.emit({ kind: 'warning', host: w.host, message: w.message });
  return { storeNames, planning, prepared, earlyKey, passwordOnce };
}

async function applyHost(deps: DeployDeps, params: DeployParams, ready: Prepared, key: ManifestKey): Promise<DeployResult> {
  const { host, plan, facts } = ready;
  const name = host.target.name;
  const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: name, message });
  const written = await applyFileSet(host, plan, facts, params.parts !== 'system');
  const removedAppModuleFiles = [...written.removed];
  step(`${written.changed.length} of ${written.files} files changed${removedAppModuleFiles.length > 0 ? `, ${removedAppModuleFiles.length} stale app_modules files removed` : ''}`);

  if (params.parts === 'system') {
    const rebuilt = await rebuildWithGoal(deps, host, params.goal);
    await recordState(deps, params, ready);
    return { files: written.files, filesChanged: written.changed.length, removedAppModuleFiles, secrets: { sent: [], unchanged: [], removed: [] }, ...rebuilt };
  }
  let secrets: DeployResult['secrets'] = { sent: [], unchanged: [], removed: [] };
  if (plan.files.some((f) => f.remotePath === `/etc/nixos/${name}.nix`)) {
    const synced: SecretsSyncResult = await syncSecrets(host, {
      secrets: plan.secrets,
      preBuild: plan.preBuildSecrets,
      key,
      known: ready.secretsState,
      valueFor: async (secret) => {
        const value = ready.values.get(secret);
        if (value === undefined) throw new HostStepFailed(`internal: secret ${secret} was not prepared`);
        return value;
      },
    });
    secrets = { sent: synced.sent, unchanged: synced.unchanged, removed: synced.removed };
    step(`secrets: ${secrets.sent.length} sent, ${secrets.unchanged.length} unchanged, ${secrets.removed.length} removed`);
  } else {
    // No node file (init-node / init-machine, where it is optional): nothing says which
    // secrets the node needs, so the ones it has are left alone rather than all removed.
    step('no node file: secrets on the node left unchanged');
  }
  const rebuilt = await rebuildWithGoal(deps, host, params.goal);
  await recordState(deps, params, ready);
  return {
    files: written.files,
    filesChanged: written.changed.length,
    removedAppModuleFiles,
    secrets,
    ...rebuilt,
  };
}

/** `nixos-rebuild <goal>` when a goal is given; a dry-activate's findings reported for the host. */
async function rebuildWithGoal(deps: DeployDeps, host: RemoteHost, goal: DeployGoal | undefined): Promise<Pick<DeployResult, 'rebuilt' | 'goal' | 'wouldActivate'>> {
  if (goal === undefined) return { rebuilt: false };
  const name = host.target.name;
  deps.reporter.emit({ kind: 'step', host: name, message: `nixos-rebuild ${goal}` });
  const { dryActivation } = await rebuild(deps, host, goal);
  if (dryActivation === undefined) return { rebuilt: true, goal };
  deps.reporter.emit({ kind: 'step', host: name, message: describeDryActivation(dryActivation) });
  return { rebuilt: true, goal, wouldActivate: dryActivation };
}

/** What this deploy wrote, left on the node for `status` (see core/status/node-state.ts). */
function recordState(deps: DeployDeps, params: DeployParams, ready: Prepared): Promise<void> {
  const at = deps.now().toISOString();
  const parts = params.parts === 'all' ? (['system', 'apps'] as const) : ([params.parts] as const);
  const entry = (part: 'system' | 'apps') => ({
    inputsHash: partInputsHash(ready.plan, ready.host.target.name, part),
    writtenAt: at,
    nixosVersion: ready.nixosVersion,
    nodeModule: params.nodeModule,
    fromTestDir: params.nodeFileSource !== undefined,
  });
  return recordDeploy(ready.host, { parts: Object.fromEntries(parts.map((p) => [p, entry(p)])), goal: params.goal, at, previous: ready.recordedState, ...deps.recorder });
}
