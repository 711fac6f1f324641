import { Args, Flags } from '@oclif/core';
import { checkDeletePrefix, checkKey, checkPrefix } from '../../domain/etcd-keys.js';
import { printResult } from '../../ui/output.js';
import { EtcdCommand, entryLines, etcdFlags } from './base.js';

const common = `Reaches etcd through SSH tunnels to the control nodes (--ctrl-nodes, else CTRL_NODES, else
those init-ctrl remembered) with the operator certificate, failing over between them in order.`;

export abstract class EtcdGetCommand extends EtcdCommand<typeof EtcdGetCommand> {
  static override summary = 'Read a key (or every key under a prefix) from etcd.';
  static override description = `Prints each entry as etcdctl does: the key on one line, the value on the next; exit 1 when a
single key does not exist. ${common}`;
  static override examples = ['<%= config.bin %> <%= command.id %> /cluster/nodes/worker001', '<%= config.bin %> <%= command.id %> /cluster/ --prefix --json'];
  static override args = { key: Args.string({ description: 'Key (starts with /).', required: true }) };
  static override flags = { prefix: Flags.boolean({ summary: 'Every key that starts with <key>.' }), ...etcdFlags };

  async run(): Promise<{ entries: Record<string, string> }> {
    const key = this.rest[0] as string;
    // Checked before any connection is opened: a typo should not cost an SSH round trip.
    if (this.flags.prefix) checkPrefix(key);
    else checkKey(key);
    const entries = await this.withControlPlane(async (cp) => {
      if (this.flags.prefix) return cp.getPrefix(key);
      const value = await cp.get(key);
      return new Map(value === undefined ? [] : [[key, value]]);
    });
    if (!this.jsonEnabled() && entries.size > 0) printResult(entryLines(entries));
    if (entries.size === 0 && !this.flags.prefix) process.exitCode = 1;
    return { entries: Object.fromEntries(entries) };
  }
}

export abstract class EtcdPutCommand extends EtcdCommand<typeof EtcdPutCommand> {
  static override summary = 'Write a value to a key in etcd (says whether it was created, changed or already so).';
  static override description = `The value is one argument, written as given; an equal value is left alone (one transaction).
${common}`;
  static override examples = ['<%= config.bin %> <%= command.id %> /cluster/maintenance \'{"until":"2026-12-01"}\''];
  static override args = {
    key: Args.string({ description: 'Key (starts with /).', required: true }),
    value: Args.string({ description: 'Value, as one argument.', required: true }),
  };
  static override flags = { ...etcdFlags };

  async run(): Promise<{ key: string; outcome: string }> {
    const [key, value] = this.rest as [string, string];
    checkKey(key);
    const result = await this.withControlPlane((cp) => cp.putIfChanged(key, value));
    if (!this.jsonEnabled()) printResult(`${key}: ${result.outcome}`);
    return { key, outcome: result.outcome };
  }
}

export abstract class EtcdDelCommand extends EtcdCommand<typeof EtcdDelCommand> {
  static override summary = 'Delete a key (or every key under a prefix ending in /) from etcd.';
  static override description = `Prints how many keys were deleted. A prefix must end with "/" and name at least one segment,
so a typo cannot delete /cluster and /coreos.com together. ${common}`;
  static override examples = ['<%= config.bin %> <%= command.id %> /cluster/maintenance', '<%= config.bin %> <%= command.id %> /cluster/backends/old-app/ --prefix'];
  static override args = { key: Args.string({ description: 'Key (starts with /).', required: true }) };
  static override flags = { prefix: Flags.boolean({ summary: 'Every key under <key>, which must end with /.' }), ...etcdFlags };

  async run(): Promise<{ deleted: number }> {
    const key = this.rest[0] as string;
    if (this.flags.prefix) checkDeletePrefix(key);
    else checkKey(key);
    const deleted = await this.withControlPlane((cp) => (this.flags.prefix ? cp.deletePrefix(key) : cp.delete(key)));
    if (!this.jsonEnabled()) printResult(`deleted ${deleted}`);
    return { deleted };
  }
}
