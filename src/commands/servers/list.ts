import { BaseCommand } from '../../cli/base-command.js';
import { optionalTargetFlag } from '../../cli/node-flags.js';
import { openProvider } from '../../cli/open-provider.js';
import { serverTable } from '../../cli/server-table.js';
import { listServers, type ServerListing } from '../../core/servers/list-servers.js';
import { printResult } from '../../ui/output.js';

export default class ServersList extends BaseCommand<typeof ServersList> {
  static override summary = 'List the servers of the project as its provider sees them.';

  static override description = `The provider is detected: servers.yaml in the project folder means self-hosted
(even when HCLOUD_TOKEN is set); otherwise HCLOUD_TOKEN means Hetzner Cloud.
Entries of servers.yaml marked \`provider: hetzner\` get their address from Hetzner by name
(HCLOUD_TOKEN needed). HCLOUD_ENDPOINT overrides the Hetzner API URL. Role, tier and tags come
from servers.yaml, or from the Hetzner labels provision wrote; --target lists only what a
selector selects (see docs/targeting.md).`;

  static override enableJsonFlag = true;

  static override flags = { target: optionalTargetFlag };

  static override examples = [
    '<%= config.bin %> <%= command.id %> -d ./my-cluster',
    '<%= config.bin %> <%= command.id %> --json',
    "<%= config.bin %> <%= command.id %> --target 'tier:prod+role:web'",
  ];

  async run(): Promise<ServerListing> {
    const session = this.openProject();
    const listing = await listServers({ provider: await openProvider(session) }, this.flags.target ?? []);
    if (!this.jsonEnabled()) printResult(listing.servers.length === 0 ? `No servers (${listing.provider}).` : serverTable(listing.servers));
    return listing;
  }
}
