import path from 'node:path';
import { readPrivateKeyFile } from '../adapters/ssh/private-key-file.js';
import { Ssh2Connector } from '../adapters/ssh/ssh2-connector.js';
import { envValue } from '../config/env.js';
import type { FanoutDeps, HostOutcome } from '../core/remote/fanout.js';
import { checkSshKeyName } from '../domain/names.js';
import { stoppableConnector } from '../core/remote/stoppable-connector.js';
import { selectTargets } from '../core/selectors/select-targets.js';
import { tierPolicy, type TierPolicy } from '../core/selectors/tier-guard.js';
import { checkAcceptedKeyNodes, parseTargetList } from '../core/targets.js';
import { ExitCode, UserError } from '../domain/errors.js';
import type { ServerInfo } from '../ports/provider.js';
import type { Reporter } from '../ports/reporter.js';
import type { HostConnector, HostTarget, RemoteHost } from '../ports/remote-host.js';
import { summarise } from '../ui/host-summary.js';
import type { ListrHostReporter } from '../ui/listr-host-reporter.js';
import { canDrawTaskList, printNote } from '../ui/output.js';
import type { ProjectSession } from './base-command.js';
import { onInterrupt } from './interrupts.js';
import { startMutation } from './mutation-run.js';
import { openProvider } from './open-provider.js';

export interface NodeRunOptions {
  readonly targetValues: readonly string[];
  readonly concurrency: number;
  readonly connectTimeoutSeconds: number;
  readonly acceptHostKey: readonly string[];
  readonly sshKeyName: string | undefined;
  /** Reach only hosts whose key is pinned already (the MCP server never trusts a new host). */
  readonly refuseFirstContact?: boolean;
  readonly json: boolean;
  readonly title: string;
  /** Set for commands that change nodes: the tier guard, the lock and the audit trail apply. */
  readonly mutation?: { readonly allowTiers: readonly string[]; readonly lockTimeoutSeconds: number };
}

/** Everything a multi-host command needs, and the one way such a command ends. */
export interface NodeRun {
  readonly deps: FanoutDeps;
  readonly targets: readonly HostTarget[];
  /** Every server the provider lists (placeholders may name any of them). */
  readonly servers: readonly ServerInfo[];
  readonly concurrency: number;
  /**
   * Closes connections (unless `keepConnections`: a later phase of the command reuses them and
   * closes them itself), finishes the display, prints the summary; returns the exit code (130
   * after Ctrl-C).
   */
  finish(outcomes: readonly HostOutcome<unknown>[], options?: { keepConnections?: boolean }): Promise<number>;
  /** Closes connections after an error that ended the command early. */
  abort(): Promise<void>;
}

export interface NodeConnection {
  readonly connector: HostConnector;
  readonly targets: readonly HostTarget[];
  readonly servers: readonly ServerInfo[];
}

/** Resolves the targets through the provider and prepares (but does not open) connections. */
export async function prepareConnections(session: ProjectSession, options: Omit<NodeRunOptions, 'json' | 'title'>): Promise<NodeConnection> {
  const provider = await openProvider(session);
  let defaultKeyPath: string | undefined;
  if (options.sshKeyName !== undefined) {
    checkSshKeyName(options.sshKeyName);
    defaultKeyPath = path.join(session.workingDir, 'ssh', options.sshKeyName);
  }
  const servers = await provider.listServers();
  const guard = options.mutation === undefined ? undefined : { policy: projectTierPolicy(session), allowTiers: options.mutation.allowTiers };
  const { targets } = selectTargets(servers, options.targetValues, guard, defaultKeyPath);
  checkAcceptedKeyNodes(servers, parseTargetList(options.acceptHostKey));
  // A key file that is no key, or readable by others, is the operator's to fix: say so before any host.
  for (const keyPath of new Set(targets.map((t) => t.keyPath))) await readPrivateKeyFile(keyPath);
  return { connector: createConnector(session, options), targets, servers };
}

/** The project's SSH connector: its known_hosts, the timeouts and the accepted key changes. */
export function createConnector(
  session: ProjectSession,
  options: Pick<NodeRunOptions, 'concurrency' | 'connectTimeoutSeconds' | 'acceptHostKey' | 'refuseFirstContact'>,
): HostConnector {
  return new Ssh2Connector({
    knownHostsFile: path.join(session.workingDir, 'ssh', 'known_hosts'),
    connectTimeoutMs: options.connectTimeoutSeconds * 1000,
    // Handshakes are the CPU-heavy part of a connection; more than this at once only queues
    // on the event loop and makes every one of them slower.
    maxHandshakes: Math.min(options.concurrency, 16),
    acceptChangedKeyFor: new Set(parseTargetList(options.acceptHostKey)),
    agentSocket: envValue(session.ctx.env, 'SSH_AUTH_SOCK'),
    livenessMs: livenessMs(session),
    refuseFirstContact: options.refuseFirstContact === true,
  });
}

/** NIX_INFRA_SSH_LIVENESS_SECONDS: how long a silent host is given before it counts as dead. */
function livenessMs(session: ProjectSession): number | undefined {
  const raw = envValue(session.ctx.env, 'NIX_INFRA_SSH_LIVENESS_SECONDS');
  if (raw === undefined) return undefined;
  const seconds = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds >= 3 && seconds <= 3600)) {
    throw new UserError(`NIX_INFRA_SSH_LIVENESS_SECONDS must be a whole number of seconds from 3 to 3600, not ${JSON.stringify(raw)}`);
  }
  return seconds * 1000;
}

/** The project's tier settings, from the environment or .env. */
export function projectTierPolicy(session: ProjectSession): TierPolicy {
  return tierPolicy({
    protectedTiers: session.ctx.env.PROTECTED_TIERS,
    allowAll: envValue(session.ctx.env, 'ALLOW_TARGET_ALL'),
  });
}

/**
 * `connector`, stopped by Ctrl-C/SIGTERM until `dispose`: connections close (which ends their
 * remote commands), hosts not reached yet are not started, and the run ends through its usual
 * path, so its summary shows what got done.
 */
export function interruptible(connector: HostConnector): {
  connector: HostConnector;
  /** Aborted by the interrupt: for waits that are not a connection (polls, back-offs). */
  readonly signal: AbortSignal;
  readonly interrupted: boolean;
  dispose(): void;
} {
  const stoppable = stoppableConnector(connector);
  const aborter = new AbortController();
  const watch = onInterrupt(() => {
    stoppable.stop('interrupted');
    aborter.abort();
  });
  return {
    connector: stoppable.connector,
    signal: aborter.signal,
    get interrupted() {
      return stoppable.stopped;
    },
    dispose: () => watch.dispose(),
  };
}

export async function openNodeRun(session: ProjectSession, options: NodeRunOptions): Promise<NodeRun> {
  const prepared = await prepareConnections(session, options);
  const { targets, servers } = prepared;
  const direct = prepared.connector;
  const mutation =
    options.mutation === undefined
      ? undefined
      : await startMutation(session, {
          connector: direct,
          targets,
          selector: options.targetValues,
          lockTimeoutSeconds: options.mutation.lockTimeoutSeconds,
          concurrency: options.concurrency,
          sshKeyName: options.sshKeyName,
          connectTimeoutSeconds: options.connectTimeoutSeconds,
          acceptHostKey: options.acceptHostKey,
        }).catch(async (err: unknown) => {
          await direct.closeAll();
          throw err;
        });
  const stop = interruptible(mutation?.connector ?? direct);
  const connector = stop.connector;
  const useListr = !options.json && canDrawTaskList();
  // listr2 is loaded only when a task list is drawn: scripts and CI never pay for it.
  const listr: ListrHostReporter | undefined = useListr
    ? new (await import('../ui/listr-host-reporter.js')).ListrHostReporter(targets.map((t) => t.name), options.title)
    : undefined;
  const reporter: Reporter = listr ?? session.reporter;

  return {
    deps: { connector, reporter, now: session.ctx.now },
    targets,
    servers,
    concurrency: options.concurrency,
    async finish(outcomes, finishOptions) {
      // The deploy locks and the audit record end with the run's first phase (its outcome is the run's).
      const interruptedByLock = await mutation?.finish(outcomes);
      // Connections kept for a later phase stay stoppable by Ctrl-C until that phase is done.
      if (finishOptions?.keepConnections !== true) {
        stop.dispose();
        await connector.closeAll();
      }
      await listr?.finish(outcomes);
      printNote(summarise(outcomes));
      if (stop.interrupted || interruptedByLock !== undefined) return ExitCode.interrupted;
      return outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
    },
    async abort() {
      await mutation?.finish(undefined, stop.interrupted ? 'interrupted' : 'stopped');
      stop.dispose();
      await connector.closeAll();
      await listr?.abort(stop.interrupted ? 'interrupted' : 'stopped');
    },
  };
}

/**
 * One node, connected, for the interactive commands (`ssh`, `port-forward`): `use` runs with the
 * open connection, which is closed afterwards whatever happens.
 */
export async function withSingleNode<T>(
  session: ProjectSession,
  command: string,
  options: Omit<NodeRunOptions, 'json' | 'title' | 'concurrency'>,
  use: (host: RemoteHost) => Promise<T>,
): Promise<T> {
  const { connector, targets } = await prepareConnections(session, { ...options, concurrency: 1 });
  if (targets.length !== 1) throw new UserError(`${command} takes exactly one node; --target selects ${targets.map((t) => t.name).join(', ')}`);
  try {
    return await use(await connector.connect(targets[0] as HostTarget));
  } finally {
    await connector.closeAll();
  }
}
