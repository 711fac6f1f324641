import { BaseCommand } from '../../cli/base-command.js';
import { openProvider } from '../../cli/open-provider.js';
import { listServers, type ServerListing } from '../../core/servers/list-servers.js';
import { printResult, renderTable } from '../../ui/output.js';

export default class ServersList extends BaseCommand<typeof ServersList> {
  static override summary = 'List the servers of the project as its provider sees them.';

  static override description = `The provider is detected: servers.yaml in the project folder means self-hosted
(even when HCLOUD_TOKEN is set); otherwise HCLOUD_TOKEN means Hetzner Cloud.
Entries of servers.yaml marked \`provider: hetzner\` get their address from Hetzner by name
(HCLOUD_TOKEN needed). HCLOUD_ENDPOINT overrides the Hetzner API URL.`;

  static override enableJsonFlag = true;

  static override examples = ['<%= config.bin %> <%= command.id %> -d ./my-cluster', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<ServerListing> {
    const session = this.openProject();
    const listing = await listServers({ provider: await openProvider(session) });
    if (!this.jsonEnabled()) {
      const rows = listing.servers.map((s) => [s.name, s.address ?? '(looked up by name)', String(s.port), s.username, s.provider]);
      printResult(
        rows.length === 0 ? `No servers (${listing.provider}).` : renderTable(['NAME', 'ADDRESS', 'PORT', 'USER', 'PROVIDER'], rows),
      );
    }
    return listing;
  }
}
