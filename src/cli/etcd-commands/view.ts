import { readView, type ControlPlaneView, type ViewResult } from '../../core/control-plane/views.js';
import type { ViewName } from '../../core/control-plane/layout.js';
import { groupTable, nodesTable } from '../../ui/control-plane-tables.js';
import { printResult } from '../../ui/output.js';
import { EtcdCommand, entryLines, etcdFlags } from './base.js';

/** The readable form of a view: a table, or etcdctl's key/value lines where no table fits. */
function viewText(parsed: ControlPlaneView, entries: ReadonlyMap<string, string>): string {
  switch (parsed.view) {
    case 'nodes':
      return nodesTable(parsed);
    case 'network':
      // The network config is free-form JSON: etcdctl's form shows it exactly as stored.
      return entryLines(entries);
    default:
      return groupTable(parsed);
  }
}

/** `etcd nodes|services|backends|frontends|network`: one prefix of the cluster's layout. */
export abstract class EtcdViewCommand extends EtcdCommand<typeof EtcdViewCommand> {
  static view: ViewName;
  static override description = `Prints a table of the parsed entries (network: the raw entries as etcdctl does); --json gives
the parsed view. Entries that do not parse are reported as warnings, not hidden. Reaches etcd
through SSH tunnels to the control nodes (--ctrl-nodes, else CTRL_NODES, else those init-ctrl
remembered) with the operator certificate.`;
  static override flags = { ...etcdFlags };

  async run(): Promise<ViewResult['parsed']> {
    const view = (this.ctor as unknown as typeof EtcdViewCommand).view;
    const result = await this.withControlPlane(async (cp, session) => {
      const read = await readView(cp, view);
      // Entries that do not parse are shown, never hidden: they are what an operator must fix.
      for (const problem of read.parsed.problems) session.reporter.emit({ kind: 'warning', message: `${problem.key}: ${problem.reason}` });
      return read;
    });
    if (!this.jsonEnabled() && result.entries.size > 0) printResult(viewText(result.parsed, result.entries));
    return result.parsed;
  }
}
