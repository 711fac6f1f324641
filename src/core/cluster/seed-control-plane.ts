import { OperationFailed } from '../../domain/errors.js';
import type { ControlPlane, ControlPlaneHealth, PutOutcome } from '../../ports/control-plane.js';
import { buildFlannelConfig, seedFlannelConfig, type FlannelConfigOptions } from '../control-plane/flannel.js';
import { SERVICE_GROUPS } from '../control-plane/layout.js';

/** Records what this cluster's key space holds; seeded once, never changed by later runs. */
export const LAYOUT_KEY = '/cluster/layout';

/**
 * Waits until the members elected a leader (a freshly bootstrapped cluster needs a moment after
 * the last member started). Bounded; the error says what was waited for and the last answer.
 */
export async function waitForLeader(
  cp: ControlPlane,
  clock: { now: () => Date; sleep: (ms: number) => Promise<void> },
  timeoutMs: number,
  pollMs = 2000,
): Promise<ControlPlaneHealth> {
  const deadline = clock.now().getTime() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const health = await cp.health();
      if (health.leaderId !== '0') return health;
      last = `${health.answeredBy} answered, but the members have no leader yet`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (clock.now().getTime() + pollMs > deadline) {
      throw new OperationFailed(`etcd did not become healthy within ${Math.round(timeoutMs / 1000)} s (waited for an elected leader)`, [`last: ${last}`]);
    }
    await clock.sleep(pollMs);
  }
}

export interface SeedResult {
  readonly key: string;
  readonly outcome: PutOutcome;
}

/**
 * The mesh's starting state, idempotently: flannel's network config and the layout record. A
 * second run with the same values changes nothing; a different network replaces the config (the
 * caller warns: running nodes keep their leases until flannel restarts).
 */
export async function seedControlPlane(cp: ControlPlane, options: { network: FlannelConfigOptions; clusterUuid: string }): Promise<SeedResult[]> {
  const flannel = await seedFlannelConfig(cp, buildFlannelConfig(options.network));
  const layout = await cp.putIfChanged(LAYOUT_KEY, JSON.stringify({ version: 1, clusterUuid: options.clusterUuid, groups: [...SERVICE_GROUPS] }));
  return [
    { key: flannel.key, outcome: flannel.outcome },
    { key: LAYOUT_KEY, outcome: layout.outcome },
  ];
}
