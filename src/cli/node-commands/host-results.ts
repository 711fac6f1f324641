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
