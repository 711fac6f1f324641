import type { RemoteHost } from '../../ports/remote-host.js';
import { NODE_STATE_PATH } from '../../remote/status-probe.js';
import { HostStepFailed } from '../remote/fanout.js';
import { nextNodeState, parseNodeState, type DeployPart, type NodeStatePart } from './node-state.js';

export interface DeployRecord {
  readonly parts: Partial<Record<DeployPart, NodeStatePart>>;
  readonly rebuilt: boolean;
  readonly at: string;
  readonly operator: string;
  readonly cliVersion: string;
}

/**
 * Leaves on the node what this deploy did (see node-state.ts): read, merged, written whole
 * through a temporary file, owner-only. After a rebuild, the system it activated.
 */
export async function recordDeploy(host: RemoteHost, record: DeployRecord): Promise<void> {
  const previous = await host.exec({ argv: ['cat', NODE_STATE_PATH] });
  const { state } = parseNodeState(previous.exitCode === 0 ? previous.stdout.toString('utf8') : '');
  let storePath: string | undefined;
  if (record.rebuilt) {
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
