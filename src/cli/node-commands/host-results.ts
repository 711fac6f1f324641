import { ExitCode } from '../../domain/errors.js';
import { summarise } from '../../ui/host-summary.js';
import { printNote } from '../../ui/output.js';
import type { HostOutcome } from '../../core/remote/fanout.js';

export interface HostResultsJson<T> {
  readonly ok: boolean;
  readonly hosts: Array<{ host: string; ok: boolean; durationMs: number; error?: string; details?: readonly string[] } & Partial<T>>;
}

/** The --json document of a multi-host command: overall ok, then one entry per host. */
export function hostResults<T extends object>(outcomes: readonly HostOutcome<T>[]): HostResultsJson<T> {
  return {
    ok: outcomes.every((o) => o.ok),
    hosts: outcomes.map((o) => ({
      host: o.host,
      ok: o.ok,
      durationMs: o.durationMs,
      ...(o.value ?? {}),
      ...(o.error === undefined ? {} : { error: o.error }),
      ...(o.details === undefined || o.details.length === 0 ? {} : { details: o.details }),
    })) as HostResultsJson<T>['hosts'],
  };
}

/**
 * The end of a command whose per-host value is a state word (destroy, adopt): the summary on
 * stderr, exit 1 when any host failed, and the --json document.
 */
export function finishWithStates(outcomes: readonly HostOutcome<string>[]): HostResultsJson<{ state: string }> {
  printNote(summarise(outcomes));
  process.exitCode = outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
  return hostResults(outcomes.map((o) => ({ ...o, value: o.value === undefined ? undefined : { state: o.value } })));
}
