import { OperationFailed } from '../../../domain/errors.js';
import type { ServerInfo } from '../../../ports/provider.js';
import { field } from './client.js';
import { attributesFromLabels } from './labels.js';

/** A server as the API describes it, reduced to what the CLI shows and connects to. */
export function toServerInfo(raw: unknown, operation: string): ServerInfo {
  const name = field(raw, 'name');
  if (typeof name !== 'string') throw new OperationFailed(`${operation} failed: the Hetzner API sent a server without a name`);
  // A server created without IPv4 has `ipv4: null`; it is listed, with no address to connect to.
  const ip = field(raw, 'public_net', 'ipv4', 'ip');
  const type = field(raw, 'server_type', 'name');
  // Newer API versions put `location` on the server itself; the datacenter always carries it.
  const location = field(raw, 'location', 'name') ?? field(raw, 'datacenter', 'location', 'name');
  const parts = [typeof type === 'string' ? type : undefined, typeof location === 'string' ? `in ${location}` : undefined].filter(
    (part): part is string => part !== undefined,
  );
  return {
    name,
    address: typeof ip === 'string' ? ip : undefined,
    username: 'root',
    port: 22,
    provider: 'hetzner',
    ...(parts.length === 0 ? {} : { description: parts.join(' ') }),
    ...attributesFromLabels(raw),
  };
}

/** The numeric id of a resource the API described; throws when it has none. */
export function idOf(raw: unknown, operation: string, what: string): number {
  const id = field(raw, 'id');
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new OperationFailed(`${operation} failed: unexpected answer from the Hetzner API (${what} without an id)`);
  }
  return id;
}
