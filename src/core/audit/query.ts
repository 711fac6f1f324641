import type { AuditRecord } from '../../domain/audit.js';

/**
 * The records that touched any of `nodes` (all records when undefined), each reduced to those
 * nodes' results, newest last; at most `limit` of them (the newest).
 */
export function auditFor(records: readonly AuditRecord[], nodes: readonly string[] | undefined, limit: number): AuditRecord[] {
  const wanted = nodes === undefined ? undefined : new Set(nodes);
  const matching = records.flatMap((record) => {
    if (wanted === undefined) return [record];
    const results = record.results.filter((r) => wanted.has(r.node));
    return results.length === 0 ? [] : [{ ...record, nodes: record.nodes.filter((n) => wanted.has(n)), results }];
  });
  return matching.slice(Math.max(0, matching.length - limit));
}

/** One line per run: when, who, what, on which selector, and how each node fared. */
export function auditLine(record: AuditRecord): string {
  const results = record.results.map((r) => `${r.node} ${r.ok ? 'ok' : `failed${r.error === undefined ? '' : ` (${r.error})`}`}`).join(', ');
  return `${record.when}  ${record.who}  ${record.command} --target ${JSON.stringify(record.selector.join(' '))}  ${record.result} in ${(record.durationMs / 1000).toFixed(1)}s: ${results}`;
}
