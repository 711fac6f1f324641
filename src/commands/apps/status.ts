import { Args, Flags } from '@oclif/core';
import { EtcdCommand, etcdFlags } from '../../cli/etcd-commands/base.js';
import { appStatus, readAppEntries, type AppStatus } from '../../core/control-plane/apps.js';
import { SERVICE_GROUPS } from '../../core/control-plane/layout.js';
import { UserError } from '../../domain/errors.js';
import { appStatusText } from '../../ui/control-plane-tables.js';
import { printResult } from '../../ui/output.js';

export default class AppsStatus extends EtcdCommand<typeof AppsStatus> {
  static override summary = "One app of the mesh in detail: its meta_data fields, instances and consuming nodes.";

  static override description = `Reads the app's keys under /cluster/<group>/<app>/ and the node registrations from etcd,
through SSH tunnels to the control nodes with the operator certificate. meta_data fields whose
name looks like a secret (password, token, secret, ...) are not printed, only named as hidden.`;

  static override args = { app: Args.string({ description: 'The app name (the <app> in /cluster/<group>/<app>/).', required: true }) };

  static override flags = {
    group: Flags.string({ summary: 'The group to look in, when the app name is used in more than one.', options: [...SERVICE_GROUPS] }),
    ...etcdFlags,
  };

  static override examples = ['<%= config.bin %> <%= command.id %> web', '<%= config.bin %> <%= command.id %> api --group backends --json'];

  async run(): Promise<AppStatus> {
    // The one required argument: oclif refuses the command without it.
    const app = this.rest[0] as string;
    const group = this.flags.group as (typeof SERVICE_GROUPS)[number] | undefined;
    const lookup = await this.withControlPlane(async (cp, session) => {
      const found = appStatus(await readAppEntries(cp), app, group);
      if (found.found) for (const problem of found.status.problems) session.reporter.emit({ kind: 'warning', message: `${problem.key}: ${problem.reason}` });
      return found;
    });
    if (!lookup.found) {
      if (lookup.groups.length > 1) {
        throw new UserError(`app ${JSON.stringify(app)} is registered in ${lookup.groups.join(' and ')}`, { hints: [`pass --group ${lookup.groups.join('|')}`] });
      }
      const where = group === undefined ? '/cluster/{services,backends,frontends}/' : `/cluster/${group}/`;
      throw new UserError(`app ${JSON.stringify(app)} has no keys under ${where}${app}/`, { hints: ['`nix-infra apps list` shows the registered apps'] });
    }
    if (!this.jsonEnabled()) printResult(appStatusText(lookup.status));
    return lookup.status;
  }
}
