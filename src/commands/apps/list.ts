import { EtcdCommand, etcdFlags } from '../../cli/etcd-commands/base.js';
import { listApps, readAppEntries, type AppList } from '../../core/control-plane/apps.js';
import { appsTable } from '../../ui/control-plane-tables.js';
import { printNote, printResult } from '../../ui/output.js';

export default class AppsList extends EtcdCommand<typeof AppsList> {
  static override summary = 'The apps registered in the mesh: group, publish port, instances per node, consuming nodes.';

  static override description = `Reads /cluster/{services,backends,frontends}/<app>/ and the node registrations
(/cluster/nodes/<node>) from etcd, through SSH tunnels to the control nodes with the operator
certificate. An app's consumers are the nodes whose registration lists its group. Entries that do
not parse are reported as warnings, not hidden.`;

  static override flags = { ...etcdFlags };

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<AppList> {
    const list = await this.withControlPlane(async (cp, session) => {
      const result = listApps(await readAppEntries(cp));
      for (const problem of result.problems) session.reporter.emit({ kind: 'warning', message: `${problem.key}: ${problem.reason}` });
      return result;
    });
    if (!this.jsonEnabled()) {
      if (list.apps.length === 0) printNote('no apps registered under /cluster/services/, /cluster/backends/ or /cluster/frontends/');
      else printResult(appsTable(list));
    }
    return list;
  }
}
