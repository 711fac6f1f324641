import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { isGranted } from '../core/mcp/permissions.js';
import { unitSchema } from '../core/mcp/probes.js';
import { runProbe } from '../core/mcp/run-probe.js';
import { normaliseUnitName } from '../domain/probe-inputs.js';
import type { McpDeps } from './deps.js';
import { frameProbe } from './host-output.js';
import { targetFor } from './node-tools.js';
import { audited, ToolRefused } from './tool-kit.js';

/**
 * Changes, registered only when the server was started with a matching `--allow`. The grant is
 * checked against the node's tier from the project's inventory, never from the tool's arguments.
 */
export function registerWriteTools(server: McpServer, deps: McpDeps): void {
  if (!deps.grants.some((g) => g.action === 'restart-unit')) return;
  const scopes = deps.grants.filter((g) => g.action === 'restart-unit').map((g) => g.scope);
  server.registerTool(
    'restart_unit',
    {
      title: 'Restart a systemd unit',
      description: `systemctl restart of one unit on one node. Allowed on tiers: ${scopes.join(', ')}${scopes.includes('all') ? ` (protected tiers ${deps.protectedTiers.join(', ')} only when named)` : ''}.`,
      inputSchema: { node: z.string().max(63), unit: unitSchema },
      outputSchema: {
        node: z.string(),
        ok: z.boolean(),
        error: z.string().optional(),
        untrusted: z.literal(true),
        steps: z.array(z.object({ label: z.string(), exitCode: z.number().nullable(), output: z.string(), truncated: z.boolean() })),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    },
    audited(deps, 'restart_unit', async ({ node, unit }) => {
      const server = (await deps.listServers()).find((s) => s.name === node);
      const target = await targetFor(deps, node);
      const tier = server?.tier;
      if (!isGranted(deps.grants, 'restart-unit', tier, deps.protectedTiers)) {
        throw new ToolRefused(`${node} is ${tier === undefined ? 'in no tier' : `in tier ${tier}`}; this server may restart units only on: ${scopes.join(', ')}`);
      }
      const result = await runProbe(deps.connector, target, [{ label: 'restart', argv: ['systemctl', 'restart', '--', normaliseUnitName(unit)] }], deps.limits);
      return { text: frameProbe(result), structured: { ...result, untrusted: true }, nodes: [node], failed: !result.ok };
    }),
  );
}
