import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { openProvider } from '../cli/open-provider.js';
import { listServers } from '../core/servers/list-servers.js';
import type { ServerInfo } from '../ports/provider.js';
import { printResult } from '../ui/output.js';

export default class Select extends BaseCommand<typeof Select> {
  static override summary = 'Print the nodes a selector would reach, without connecting to any.';

  static override description = `Takes what --target takes: names, web-*, @tag, role:NAME, tier:NAME, all, !SELECTOR,
A+B (intersection); several arguments or space/comma-separated items are a union, exclusions
apply last. Prints one node name per line in the order a command would take them; with --json,
the servers with their attributes. A selector that matches nothing exits 2 naming it.`;

  static override strict = false;

  static override enableJsonFlag = true;

  static override args = { selectors: Args.string({ description: 'Selectors, e.g. "tier:test+role:web" "!@canary".', required: true }) };

  static override examples = ["<%= config.bin %> <%= command.id %> 'tier:test+role:web'", "<%= config.bin %> <%= command.id %> 'web-*' '!web-3' --json"];

  async run(): Promise<{ nodes: string[]; servers: readonly ServerInfo[] }> {
    const session = this.openProject();
    const listing = await listServers({ provider: await openProvider(session) }, this.rest);
    const nodes = listing.servers.map((s) => s.name);
    if (!this.jsonEnabled()) printResult(nodes.join('\n'));
    return { nodes, servers: listing.servers };
  }
}
