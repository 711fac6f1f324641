import { UserError } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import type { LocalFiles } from '../../ports/local-files.js';
import type { HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { Workspace } from '../../ports/workspace.js';
import type { CoreContext } from '../context.js';
import { obtainPassword } from '../credentials.js';
import { rebuild } from '../cluster/node-setup.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { nixSystemOf, publicKeyOf } from '../remote/node-identity.js';
import { secretsPassword } from '../secrets/secrets-password.js';
import { substituteSecretValue, type DeployMode, type NodeMap } from './placeholders.js';
import { APP_MODULES_ROOT, buildDeployPlan, staleAppModuleFiles, type DeployPlan } from './plan.js';
import { ManifestKey, syncSecrets, type SecretsSyncResult } from './secrets-sync.js';

export interface DeployDeps extends FanoutDeps {
  readonly ctx: CoreContext;
  readonly project: Workspace;
  readonly local: LocalFiles;
  readonly store: SecretStore;
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
  readonly rebuild: boolean;
  readonly concurrency: number;
  /**
   * `warn`: a node or overlay IP the node file or a secret names that does not exist yet is a
   * warning and renders as a marker that fails when used (upstream's create flow); default error.
   */
  readonly forwardReferences?: 'error' | 'warn';
}

export interface DeployResult {
  readonly files: number;
  readonly removedAppModuleFiles: readonly string[];
  readonly secrets: { readonly sent: readonly string[]; readonly unchanged: readonly string[]; readonly removed: readonly string[] };
  readonly rebuilt: boolean;
}

/** `nix-store.trusted-public-keys*` secrets: the keys `[%%nix-store.trusted-public-keys%%]` renders. */
const TRUSTED_KEYS_PREFIX = 'nix-store.trusted-public-keys';

async function planFor(deps: DeployDeps, host: RemoteHost, params: DeployParams, trustedPublicKeys: readonly string[]): Promise<DeployPlan> {
  const hwArch = await nixSystemOf(host);
  const sshPublicKey = await publicKeyOf(deps.local, host.target);
  let nixosVersion = params.nixosVersion;
  if (nixosVersion === undefined) {
    const running = (await host.exec({ argv: ['nixos-version'] })).stdout.toString('utf8');
    nixosVersion = /^(\d{2}\.\d{2})/.exec(running)?.[1];
    if (nixosVersion === undefined) throw new HostStepFailed(`cannot tell which NixOS release runs here (nixos-version said ${JSON.stringify(running.trim())})`, ['pass --nixos-version']);
  }
  return buildDeployPlan(deps.project, {
    mode: params.mode,
    node: { name: host.target.name, ipv4: host.target.address, overlayIp: params.nodes.get(host.target.name)?.overlayIp },
    nodes: params.nodes,
    nixosVersion,
    sshPublicKey,
    hwArch,
    nodeModule: params.nodeModule,
    ...(params.etcdCluster === undefined ? {} : { etcdCluster: params.etcdCluster }),
    trustedPublicKeys,
    ...(params.nodeFileSource === undefined ? {} : { nodeFileSource: params.nodeFileSource }),
    ...(params.forwardReferences === undefined ? {} : { forwardReferences: params.forwardReferences }),
  });
}

/** The part of the plan the command deploys (see DeployParams.parts). */
function selectParts(plan: DeployPlan, node: string, parts: DeployParams['parts']): DeployPlan {
  if (parts === 'all') return plan;
  const nodeFile = `/etc/nixos/${node}.nix`;
  if (parts === 'apps') return { ...plan, files: plan.files.filter((f) => f.remotePath === nodeFile) };
  return {
    ...plan,
    files: plan.files.filter((f) => f.remotePath !== nodeFile),
    appModules: [],
    directories: plan.directories.filter((d) => !d.startsWith(APP_MODULES_ROOT)),
    secrets: [],
    preBuildSecrets: [],
    warnings: [],
  };
}

/** app_modules/ on the node: files that no longer exist locally are removed, only inside the folder. */
async function syncAppModules(host: RemoteHost, plan: DeployPlan): Promise<string[]> {
  // -P: never follow links, so nothing outside the folder is ever listed.
  const listing = await host.exec({ argv: ['find', '-P', APP_MODULES_ROOT, '-type', 'f'] });
  const files = listing.exitCode === 0 ? listing.stdout.toString('utf8').split('\n').filter((l) => l !== '') : [];
  const stale = staleAppModuleFiles(files, plan);
  const sftp = await host.files();
  for (const file of stale) await sftp.remove(file);
  return stale;
}

/**
 * Deploys the nodes: every plan is built first on every host (files rendered, placeholders
 * resolved, secrets named) so a broken file stops the deploy before any node changes; then per
 * host the files, app_modules (stale files removed), secrets (only changed ones sent, over stdin
 * into systemd-creds) and, when asked, `nixos-rebuild switch`.
 */
export async function deployNodes(deps: DeployDeps, params: DeployParams): Promise<HostOutcome<DeployResult>[]> {
  if (params.targets.length === 0) throw new UserError('no target given');
  const opened = new Map<string, RemoteHost>();
  const storeNames = (await deps.store.list()).map((e) => e.name);
  // Trusted keys only appear in node files, which a `system` deploy does not upload.
  const trustedNames = params.parts === 'system' ? [] : storeNames.filter((n) => n.startsWith(TRUSTED_KEYS_PREFIX));

  // The password is needed when any secret is referenced, or trusted keys are stored; asked once.
  let password: SecretValue | undefined;
  const passwordOnce = async (): Promise<SecretValue> => (password ??= await obtainPassword(deps.ctx, secretsPassword));
  const trustedPublicKeys: string[] = [];
  for (const name of trustedNames) trustedPublicKeys.push((await deps.store.read(name, await passwordOnce())).reveal().toString('utf8').trim());

  const plans = new Map<string, DeployPlan>();
  const inputErrors = new Map<string, UserError>();
  const planning = await forEachHost(deps, params.targets, params.concurrency, async (host) => {
    opened.set(host.target.name, host);
    try {
      plans.set(host.target.name, await planFor(deps, host, params, trustedPublicKeys));
    } catch (err) {
      if (err instanceof UserError) inputErrors.set(host.target.name, err);
      throw err;
    }
    return undefined;
  });
  const failedPlans = planning.filter((o) => !o.ok);
  // A broken file (unknown placeholder, bad name) is the operator's input, not a host's failure.
  const [firstInput] = inputErrors;
  if (firstInput !== undefined && failedPlans.every((o) => inputErrors.has(o.host))) {
    const [node, err] = firstInput;
    throw new UserError(`${node}: ${err.message}; nothing was deployed`, { hints: err.hints });
  }
  if (failedPlans.length > 0) {
    // Nothing was deployed anywhere: a host whose own plan was fine is not "ok" either.
    const failedNames = failedPlans.map((o) => o.host).join(', ');
    return planning.map((o) => (o.ok ? { host: o.host, ok: false, error: `not deployed: planning failed on ${failedNames}`, durationMs: o.durationMs } : { ...o, value: undefined })) as HostOutcome<DeployResult>[];
  }

  // With secrets referenced or stored, the manifest key comes from the store's password. With
  // neither, no hash is ever recorded (nothing is wanted), and the sync only removes leftovers
  // from the nodes, so a fixed key serves and no password is asked for.
  const anySecrets = params.parts !== 'system' && ([...plans.values()].some((p) => p.secrets.length > 0) || storeNames.length > 0);
  const key = await ManifestKey.derive(anySecrets ? await passwordOnce() : new SecretValue('no-secrets', 'no secrets referenced'));
  // Every secret value of every node, read and substituted before the first write, so a missing
  // secret or a bad placeholder in a value stops the deploy with no node changed.
  const values = new Map<string, Map<string, SecretValue>>();
  if (params.parts !== 'system') {
    for (const target of params.targets) {
      const plan = plans.get(target.name) as DeployPlan;
      const placeholders = {
        mode: params.mode,
        nodes: params.nodes,
        localhost: { name: target.name, ipv4: target.address, overlayIp: params.nodes.get(target.name)?.overlayIp },
        ...(params.forwardReferences === undefined ? {} : { forwardReferences: params.forwardReferences }),
      };
      const warn = (message: string): void => deps.reporter.emit({ kind: 'warning', host: target.name, message });
      plan.warnings.forEach(warn);
      const own = new Map<string, SecretValue>();
      for (const secret of plan.secrets) {
        if (!storeNames.includes(secret)) {
          throw new UserError(`${target.name}: secret ${secret} is referenced but not stored; nothing was deployed`, { hints: [`store it with \`nix-infra secrets store --name ${secret}\``] });
        }
        // A pre-build secret is one value in both places, resolved with the full map (localhost.* too).
        const kind = plan.preBuildSecrets.includes(secret) ? 'pre-build' : 'secret';
        own.set(secret, substituteSecretValue(await deps.store.read(secret, await passwordOnce()), kind, placeholders, warn));
      }
      values.set(target.name, own);
    }
  }
  const reuse: HostConnector = { ...deps.connector, connect: async (target) => opened.get(target.name) ?? deps.connector.connect(target) };

  return forEachHost({ ...deps, connector: reuse }, params.targets, params.concurrency, async (host) => {
    const name = host.target.name;
    const plan = selectParts(plans.get(name) as DeployPlan, name, params.parts);
    const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: name, message });
    const sftp = await host.files();
    for (const dir of plan.directories) await sftp.mkdirp(dir, 0o755);
    for (const file of [...plan.files, ...plan.appModules]) await sftp.writeFile(file.remotePath, file.content, file.mode);
    const removedAppModuleFiles = params.parts === 'system' ? [] : await syncAppModules(host, plan);
    step(`${plan.files.length + plan.appModules.length} files written${removedAppModuleFiles.length > 0 ? `, ${removedAppModuleFiles.length} stale app_modules files removed` : ''}`);

    if (params.parts === 'system') {
      if (params.rebuild) await rebuild(deps, host);
      return { files: plan.files.length, removedAppModuleFiles, secrets: { sent: [], unchanged: [], removed: [] }, rebuilt: params.rebuild };
    }
    const own = values.get(name) ?? new Map<string, SecretValue>();
    const secrets: SecretsSyncResult = await syncSecrets(host, {
      secrets: plan.secrets,
      preBuild: plan.preBuildSecrets,
      key,
      valueFor: async (secret) => {
        const value = own.get(secret);
        if (value === undefined) throw new HostStepFailed(`internal: secret ${secret} was not prepared`);
        return value;
      },
    });
    step(`secrets: ${secrets.sent.length} sent, ${secrets.unchanged.length} unchanged, ${secrets.removed.length} removed`);
    if (params.rebuild) {
      step('nixos-rebuild switch');
      await rebuild(deps, host);
    }
    return {
      files: plan.files.length + plan.appModules.length,
      removedAppModuleFiles,
      secrets: { sent: secrets.sent, unchanged: secrets.unchanged, removed: secrets.removed },
      rebuilt: params.rebuild,
    };
  });
}
