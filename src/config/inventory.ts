/**
 * The validated contents of servers.yaml, as plain data the rest of the CLI works with.
 * Keys are renamed to camelCase and paths resolved here, so no caller re-reads the YAML shape.
 */
import { ExitCode, UserError } from '../domain/errors.js';

export interface ServerEntry {
  /** Node name: a hostname label, as written in servers.yaml. */
  name: string;
  /** Fixed address; absent for a hybrid entry (`provider` set). */
  ip?: string;
  /** Cloud that resolves this entry's address by name; absent when `ip` is set. */
  provider?: 'hetzner';
  /** Absolute path of the private key, resolved against the project folder. */
  sshKeyPath: string;
  /** `ssh_key` exactly as written, for messages that should match the file. */
  sshKeyRef: string;
  username: string;
  port: number;
  description?: string;
  /** Free-form; never interpreted by the CLI. Empty when the file has none. */
  metadata: Record<string, unknown>;
}

export interface Inventory {
  /** Absolute path of servers.yaml. */
  file: string;
  /** In the order the file lists them. */
  servers: ServerEntry[];
}

/**
 * The entries named in `names`, in file order (so a run touches machines in the order the operator
 * listed them in servers.yaml, whatever the order on the command line), each at most once.
 * An empty `names` selects nothing: deciding that "no names" means "all" is the caller's call.
 */
export function findServers(inv: Inventory, names: readonly string[]): ServerEntry[] {
  const wanted = new Set(names);
  const known = new Set(inv.servers.map((server) => server.name));
  const unknown = [...wanted].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const hint =
      inv.servers.length === 0
        ? `${inv.file} lists no servers`
        : `known servers: ${inv.servers.map((server) => server.name).join(', ')}`;
    throw new UserError(`unknown server(s): ${unknown.join(', ')}`, {
      hints: [hint],
      exitCode: ExitCode.invalidInput,
    });
  }
  return inv.servers.filter((server) => wanted.has(server.name));
}
