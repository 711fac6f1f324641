import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { openMcpSession } from '../cli/mcp-session.js';
import { wholeNumberFlag } from '../cli/numeric-flag.js';
import { WRITE_ACTIONS } from '../core/mcp/permissions.js';
import { createMcpServer } from '../mcp/server.js';
import { serveStdio } from '../ui/mcp-stdio.js';

export default class Mcp extends BaseCommand<typeof Mcp> {
  static override summary = 'Serve the project to an AI assistant over MCP (stdio): read-only unless --allow grants more.';

  static override description = `Tools: list_nodes; node_status (what "fleet status" shows; "cluster status" with --cluster); audit_trail (newest records of .nix-infra/audit.jsonl); unit_status, journal and a fixed catalogue of read-only probes on one node (each an argv built from checked parameters, never shell text, with a timeout and an output cap; host output is marked as untrusted data); config_list_files and config_read_file under nodes/, app_modules/, modules/ and node_types/ only. With --dev also dev_list_files, dev_read_file, dev_write_file and dev_check_nix under app_modules/ and __test__/. Write tools exist only for what --allow grants (${WRITE_ACTIONS.join(', ')}), checked against each node's tier; protected tiers (prod) must be named. Only hosts whose SSH key is already pinned are reached. Every tool call is one line in .nix-infra/audit.jsonl. See docs/mcp.md for client set-up.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> -d ./my-cluster',
    '<%= config.bin %> <%= command.id %> -d ./my-cluster --dev',
    '<%= config.bin %> <%= command.id %> -d ./my-cluster --allow restart-unit:test',
  ];

  static override flags = {
    allow: Flags.string({
      summary: `Grant a write tool on a tier: ACTION:TIER, ACTION one of ${WRITE_ACTIONS.join(', ')}, TIER a tier name or "all" (protected tiers excluded unless named).`,
      multiple: true,
    }),
    dev: Flags.boolean({ summary: 'Also offer the app-module development tools (app_modules/ and __test__/ only).' }),
    cluster: Flags.boolean({ summary: 'A cluster project: node_status renders with overlay addresses from the control nodes (CTRL_NODES, else those init-ctrl remembered).' }),
    'tool-timeout': wholeNumberFlag({ summary: 'Seconds a tool call may take on a host, connect included.', default: 30, min: 1, max: 600 }),
    'max-output': wholeNumberFlag({ summary: 'Bytes of host output kept per command; more is cut off.', default: 64 * 1024, min: 1024, max: 4 * 1024 * 1024 }),
    'connect-timeout': wholeNumberFlag({ summary: 'Seconds to establish one SSH connection.', default: 10, min: 1, max: 600 }),
  };

  async run(): Promise<void> {
    const session = this.openProject();
    const deps = await openMcpSession(session, {
      allow: this.flags.allow ?? [],
      dev: this.flags.dev,
      cluster: this.flags.cluster,
      sshKeyName: this.sshKeyName(session),
      connectTimeoutSeconds: this.flags['connect-timeout'],
      toolTimeoutSeconds: this.flags['tool-timeout'],
      maxOutputBytes: this.flags['max-output'],
      version: this.config.version,
    });
    await serveStdio(createMcpServer(deps), () => deps.connector.closeAll());
  }
}
