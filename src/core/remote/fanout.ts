import type { Reporter } from '../../ports/reporter.js';
import type { HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import { forEachLimited } from '../../util/concurrency.js';

export interface HostOutcome<T> {
  readonly host: string;
  readonly ok: boolean;
  readonly value?: T;
  /** One line saying what went wrong, e.g. `exit 1` or `cannot connect ...: timed out`. */
  readonly error?: string;
  /** Extra lines for the summary (the remote output's tail, hints). */
  readonly details?: readonly string[];
  readonly durationMs: number;
}

/** A failure of one host, with what to show about it. Thrown by per-host steps. */
export class HostStepFailed extends Error {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
    readonly value?: unknown,
  ) {
    super(message);
    this.name = 'HostStepFailed';
  }
}

export interface FanoutDeps {
  readonly connector: HostConnector;
  readonly reporter: Reporter;
  readonly now: () => Date;
}

/**
 * Runs `work` on every target with at most `concurrency` hosts in flight. Each host gets one
 * connection, used by all of its steps. One host's failure never stops the others: every host
 * ends up in the returned list (in target order) as ok or failed with a reason.
 */
export async function forEachHost<T>(
  deps: FanoutDeps,
  targets: readonly HostTarget[],
  concurrency: number,
  work: (host: RemoteHost) => Promise<T>,
): Promise<HostOutcome<T>[]> {
  const outcomes = new Array<HostOutcome<T>>(targets.length);
  // runOne never throws: a host's failure is its outcome, so every host is attempted.
  await forEachLimited(targets, concurrency, async (target, index) => {
    outcomes[index] = await runOne(deps, target, work);
  });
  return outcomes;
}

async function runOne<T>(deps: FanoutDeps, target: HostTarget, work: (host: RemoteHost) => Promise<T>): Promise<HostOutcome<T>> {
  const started = deps.now().getTime();
  const elapsed = (): number => deps.now().getTime() - started;
  deps.reporter.emit({ kind: 'host', host: target.name, state: 'running' });
  try {
    const host = await deps.connector.connect(target);
    const value = await work(host);
    deps.reporter.emit({ kind: 'host', host: target.name, state: 'ok' });
    return { host: target.name, ok: true, value, durationMs: elapsed() };
  } catch (err) {
    const error = err as Error & { hints?: readonly string[] };
    // Messages from the connector already start with the host name; don't say it twice.
    const message = error.message.startsWith(`${target.name}: `) ? error.message.slice(target.name.length + 2) : error.message;
    const details = err instanceof HostStepFailed ? err.details : (error.hints ?? []);
    deps.reporter.emit({ kind: 'host', host: target.name, state: 'failed', detail: message });
    return {
      host: target.name,
      ok: false,
      error: message,
      details,
      durationMs: elapsed(),
      ...(err instanceof HostStepFailed && err.value !== undefined ? { value: err.value as T } : {}),
    };
  }
}

/**
 * `connector`, except that `connect` first answers with a connection from `opened` (a second pass
 * over hosts that are still connected from the first). Every other method is the connector's
 * own, called on it: a spread copy would lose methods that live on its class.
 */
export function reusingConnections(connector: HostConnector, opened: ReadonlyMap<string, RemoteHost>): HostConnector {
  return {
    connect: async (target, options) => opened.get(target.name) ?? connector.connect(target, options),
    pinHostKey: (target, key) => connector.pinHostKey(target, key),
    forgetHostKey: (target) => connector.forgetHostKey(target),
    closeAll: () => connector.closeAll(),
  };
}
