import { UserError } from '../domain/errors.js';
import { isHostnameLabel } from '../domain/names.js';
import type { ServerInfo } from '../ports/provider.js';
import type { HostTarget } from '../ports/remote-host.js';

/**
 * `--target` values as operators write them: upstream's one space-separated string
 * (`--target "web1 web2"`), commas, or the flag repeated. Order is kept, duplicates dropped.
 */
export function parseTargetList(values: readonly string[]): string[] {
  const names = values.flatMap((value) => value.split(/[\s,]+/)).filter((name) => name !== '');
  return [...new Set(names)];
}

/**
 * The hosts for the named nodes. Every name is checked before anything connects: a typo must
 * not leave the command half-applied to the names that happened to be right.
 */
export function resolveTargets(servers: readonly ServerInfo[], names: readonly string[], defaultKeyPath: string | undefined): HostTarget[] {
  if (names.length === 0) throw new UserError('no target given', { hints: ['pass --target with one or more node names'] });
  const invalid = names.filter((name) => !isHostnameLabel(name));
  if (invalid.length > 0) {
    throw new UserError(`not a valid node name: ${invalid.map((n) => JSON.stringify(n)).join(', ')}`, {
      hints: ['node names are hostnames: letters, digits and "-"'],
    });
  }
  const byName = new Map(servers.map((server) => [server.name, server]));
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new UserError(`unknown node(s): ${unknown.join(', ')}`, {
      hints: [servers.length === 0 ? 'the provider lists no servers' : `known nodes: ${servers.map((s) => s.name).join(', ')}`],
    });
  }
  return names.map((name) => {
    const server = byName.get(name) as ServerInfo;
    if (server.address === undefined) {
      throw new UserError(`${name}: no address: its address is looked up in ${server.provider}, which this version cannot do yet`);
    }
    const keyPath = server.keyPath ?? defaultKeyPath;
    if (keyPath === undefined) {
      throw new UserError(`${name}: no SSH key to log in with`, { hints: ['pass --ssh-key <name> or set SSH_KEY (the key is ssh/<name>)'] });
    }
    return { name, address: server.address, port: server.port, username: server.username, keyPath };
  });
}

/**
 * `--file` values: one value is upstream's space-separated list; when the flag is repeated, each
 * value is one path taken literally (so a path with spaces can still be given).
 */
export function parseFileList(values: readonly string[]): string[] {
  if (values.length === 1) return (values[0] ?? '').split(/\s+/).filter((p) => p !== '');
  return values.filter((p) => p !== '');
}

/**
 * `--accept-host-key` names: each must be a node the provider knows. A typo would otherwise
 * accept nothing, and the refusal the operator meant to get past would repeat unexplained.
 */
export function checkAcceptedKeyNodes(servers: readonly ServerInfo[], names: readonly string[]): void {
  const known = new Set(servers.map((server) => server.name));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UserError(`--accept-host-key: unknown node(s): ${unknown.map((n) => JSON.stringify(n)).join(', ')}`, {
      hints: [servers.length === 0 ? 'the provider lists no servers' : `known nodes: ${servers.map((s) => s.name).join(', ')}`],
    });
  }
}
