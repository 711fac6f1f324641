import type { AuditRecord, NodeResult } from '../../domain/audit.js';
import type { HostOutcome } from '../remote/fanout.js';

export interface RunIdentity {
  readonly id: string;
  readonly who: string;
  readonly command: string;
  readonly selector: readonly string[];
  readonly started: Date;
}

export function auditRecord(run: RunIdentity, nodes: readonly string[], outcomes: readonly HostOutcome<unknown>[] | undefined, ended: Date, ending?: 'interrupted' | 'stopped'): AuditRecord {
  const byHost = new Map((outcomes ?? []).map((o) => [o.host, o]));
  const results = nodes.map((node): NodeResult => {
    const outcome = byHost.get(node);
    if (outcome === undefined) return { node, ok: false, error: ending ?? 'not run', durationMs: 0 };
    return { node, ok: outcome.ok, ...(outcome.error === undefined ? {} : { error: firstLine(outcome.error) }), durationMs: outcome.durationMs };
  });
  const result = ending ?? (results.every((r) => r.ok) ? 'ok' : 'failed');
  return {
    v: 1,
    id: run.id,
    who: run.who,
    when: run.started.toISOString(),
    command: run.command,
    selector: run.selector,
    nodes,
    result,
    results,
    durationMs: ended.getTime() - run.started.getTime(),
  };
}

/** What a node's own deploy log gets: the run, and how it went on that node. */
export function nodeRecord(record: AuditRecord, node: string): string {
  const mine = record.results.find((r) => r.node === node);
  return JSON.stringify({
    v: 1,
    id: record.id,
    who: record.who,
    when: record.when,
    command: record.command,
    selector: record.selector,
    ok: mine?.ok ?? false,
    ...(mine?.error === undefined ? {} : { error: mine.error }),
    durationMs: mine?.durationMs ?? 0,
  });
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
