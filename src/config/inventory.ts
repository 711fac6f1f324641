/**
 * The validated contents of servers.yaml, as plain data the rest of the CLI works with.
 * Keys are renamed to camelCase and paths resolved here, so no caller re-reads the YAML shape.
 */

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
  /** Inventory attributes that --target selects by (empty / absent when not given). */
  tags?: string[];
  role?: string;
  tier?: string;
  /** Free-form; never interpreted by the CLI. Empty when the file has none. */
  metadata: Record<string, unknown>;
}

export interface Inventory {
  /** Absolute path of servers.yaml. */
  file: string;
  /** In the order the file lists them. */
  servers: ServerEntry[];
}
