import type { AuditRecord } from '../../domain/audit.js';
import type { ControlPlane } from '../../ports/control-plane.js';

export const CLUSTER_AUDIT_PREFIX = '/cluster/audit/';
/** Records kept in etcd; older ones are deleted (the project's audit.jsonl keeps everything). */
export const CLUSTER_AUDIT_KEEP = 200;

/**
 * A compact copy of the run's record in etcd, where every operator of the cluster sees it: no
 * per-node durations, only the failed nodes named. Keys sort by time, so trimming deletes the
 * oldest.
 */
export async function recordInControlPlane(cp: ControlPlane, record: AuditRecord, keep = CLUSTER_AUDIT_KEEP): Promise<void> {
  const compact = {
    who: record.who,
    when: record.when,
    command: record.command,
    selector: record.selector,
    nodes: record.nodes.length,
    result: record.result,
    failed: record.results.filter((r) => !r.ok).map((r) => r.node),
    durationMs: record.durationMs,
  };
  await cp.put(`${CLUSTER_AUDIT_PREFIX}${record.when}-${record.id}`, JSON.stringify(compact));
  const keys = [...(await cp.getPrefix(CLUSTER_AUDIT_PREFIX)).keys()];
  for (const key of keys.slice(0, Math.max(0, keys.length - keep))) await cp.delete(key);
}
