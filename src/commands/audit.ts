import { wholeNumberFlag } from '../cli/numeric-flag.js';
import { JsonlAuditLog } from '../adapters/jsonl-audit-log.js';
import { BaseCommand } from '../cli/base-command.js';
import { optionalTargetFlag } from '../cli/node-flags.js';
import { openProvider } from '../cli/open-provider.js';
import { auditFor, auditLine } from '../core/audit/query.js';
import { listServers } from '../core/servers/list-servers.js';
import type { AuditRecord } from '../domain/audit.js';
import { printResult } from '../ui/output.js';

export default class Audit extends BaseCommand<typeof Audit> {
  static override summary = "Show the project's audit trail: every run of a command that changed nodes.";

  static override description = `Reads <project>/.nix-infra/audit.jsonl: one record per run (who, when, command, selector,
nodes, the result on each node, duration; never an argument that could be a secret). With
--target, only runs that touched the selected nodes, reduced to those nodes. Each node also
keeps its own records in /var/lib/nix-infra/deploys.jsonl (see docs/targeting.md).`;

  static override enableJsonFlag = true;

  static override flags = {
    target: optionalTargetFlag,
    limit: wholeNumberFlag({ summary: 'Show at most this many runs (the newest).', default: 50, min: 1, max: 100_000 }),
  };

  static override examples = ['<%= config.bin %> <%= command.id %>', "<%= config.bin %> <%= command.id %> --target 'tier:prod' --json"];

  async run(): Promise<{ records: AuditRecord[] }> {
    const session = this.openProject();
    const selector = this.flags.target;
    const nodes = selector === undefined ? undefined : (await listServers({ provider: await openProvider(session) }, selector)).servers.map((s) => s.name);
    const records = auditFor(await new JsonlAuditLog(session.workingDir).read(), nodes, this.flags.limit);
    if (!this.jsonEnabled()) printResult(records.length === 0 ? 'No runs recorded.' : records.map(auditLine).join('\n'));
    return { records };
  }
}
