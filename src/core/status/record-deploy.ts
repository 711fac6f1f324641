import { goalActivates, type DeployGoal } from '../../domain/deploy-goal.js';
import type { RemoteHost } from '../../ports/remote-host.js';
import { NODE_STATE_PATH } from '../../remote/status-probe.js';
import { HostStepFailed } from '../remote/fanout.js';
import { nextNodeState, parseNodeState, type DeployPart, type NodeStatePart } from './node-state.js';

export interface DeployRecord {
  readonly parts: Partial<Record<DeployPart, NodeStatePart>>;
  /** The deploy's rebuild goal (undefined: none); only switch and test change the running system. */
  readonly goal: DeployGoal | undefined;
  readonly at: string;
  readonly operator: string;
  readonly cliVersion: string;
  /** state.json as the deploy's planning read it ('' when absent): merged, not read again. */
  readonly previous: string;
}

/**
 * Leaves on the node what this deploy did (see node-state.ts): merged into what planning read, written whole
 * through a temporary file, owner-only. After a rebuild that activated (switch, test), the system
 * it activated; boot, build and dry-activate leave the running system, so the recorded one stays.
 */
export async function recordDeploy(host: RemoteHost, record: DeployRecord): Promise<void> {
  const { state } = parseNodeState(record.previous);
  let storePath: string | undefined;
  if (goalActivates(record.goal)) {
    const current = await host.exec({ argv: ['readlink', '-f', '/run/current-system'] });
    const path = current.stdout.toString('utf8').trim();
    if (current.exitCode === 0 && path.startsWith('/nix/store/')) storePath = path;
  }
  const next = nextNodeState(state, { parts: record.parts, ...(storePath === undefined ? {} : { storePath }), at: record.at, operator: record.operator, cliVersion: record.cliVersion });
  const sftp = await host.files();
  try {
    await sftp.mkdirp('/var/lib/nix-infra', 0o700);
    await sftp.writeFile(NODE_STATE_PATH, Buffer.from(`${JSON.stringify(next, null, 2)}\n`), 0o600);
  } catch (err) {
    throw new HostStepFailed(`deployed, but cannot record the deploy in ${NODE_STATE_PATH}: ${(err as Error).message}`);
  }
}
