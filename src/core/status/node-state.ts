import { z } from 'zod';

/**
 * What a deploy leaves on the node (/var/lib/nix-infra/state.json, 0600) so that `status` can
 * tell later whether the node still runs what this checkout renders. It holds hashes and names,
 * never a secret value.
 */
const partSchema = z.object({
  /** sha256 over the rendered files (path, mode, content) and the names of the secrets sent. */
  inputsHash: z.string().regex(/^[0-9a-f]{64}$/),
  writtenAt: z.string(),
  /** The rendering's parameters, so the same rendering can be repeated for comparison. */
  nixosVersion: z.string(),
  nodeModule: z.string(),
  /** Rendered from --test-dir: not comparable with the project's node file. */
  fromTestDir: z.boolean().default(false),
});

export const nodeStateSchema = z.object({
  version: z.literal(1),
  parts: z.object({ apps: partSchema.optional(), system: partSchema.optional() }),
  /** The system the last rebuild activated (/run/current-system then). */
  storePath: z.string().optional(),
  activatedAt: z.string().optional(),
  operator: z.string(),
  cliVersion: z.string(),
});

export type NodeState = z.infer<typeof nodeStateSchema>;
export type NodeStatePart = z.infer<typeof partSchema>;
export type DeployPart = keyof NodeState['parts'];

/** The recorded state, or why it cannot be used (a node never deployed by us, a damaged file). */
export function parseNodeState(text: string): { state?: NodeState; problem?: string } {
  if (text.trim() === '') return {};
  try {
    const parsed = nodeStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? { state: parsed.data } : { problem: 'the state file does not have the expected shape' };
  } catch {
    return { problem: 'the state file is not JSON' };
  }
}

/** The state after a deploy: the parts it wrote replace the recorded ones; the rest stays. */
export function nextNodeState(
  previous: NodeState | undefined,
  update: { parts: Partial<Record<DeployPart, NodeStatePart>>; storePath?: string; at: string; operator: string; cliVersion: string },
): NodeState {
  return {
    version: 1,
    parts: { ...previous?.parts, ...update.parts },
    ...(update.storePath !== undefined ? { storePath: update.storePath, activatedAt: update.at } : previous?.storePath !== undefined ? { storePath: previous.storePath, ...(previous.activatedAt ? { activatedAt: previous.activatedAt } : {}) } : {}),
    operator: update.operator,
    cliVersion: update.cliVersion,
  };
}
