import type { Duplex, Readable } from 'node:stream';
import type { SecretValue } from '../domain/secret-value.js';
import type { HostKey } from '../remote/known-hosts.js';

/**
 * A command for a remote host, as data. `argv` is quoted by the adapter, each element exactly
 * once, so nothing in it is interpreted by the remote shell. `script` is an operator's own shell
 * text (`cmd`), which is meant to be interpreted, and is passed as written.
 */
export type RemoteCommand = { readonly argv: readonly string[] } | { readonly script: string };

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. A SecretValue never appears in argv. */
  readonly stdin?: Buffer | SecretValue | Readable;
  /** Live output, for progress; the full output is also in the result. */
  readonly onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface ExecResult {
  /** Exit status; null when the command was killed by a signal or the channel closed without one. */
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface RemoteFileInfo {
  readonly mode: number;
  readonly size: number;
  readonly isDirectory: boolean;
}

/** File operations over SFTP (no shell involved, so paths are never interpreted). */
export interface RemoteFiles {
  stat(path: string): Promise<RemoteFileInfo | undefined>;
  /** mkdir -p; existing folders are left as they are. */
  mkdirp(path: string, mode?: number): Promise<void>;
  /**
   * Streams `source` to a temporary name next to `path`, sets `mode`, then renames it over
   * `path`, so the target is never seen half-written.
   */
  writeFile(path: string, source: Buffer | Readable, mode: number): Promise<void>;
  remove(path: string): Promise<void>;
}

export interface PtyOptions {
  readonly term: string;
  readonly rows: number;
  readonly cols: number;
}

/** An interactive session: a duplex stream plus a way to follow the local terminal's size. */
export interface RemoteShell {
  readonly stream: Duplex;
  resize(rows: number, cols: number): void;
  /** Resolves with the remote exit status when the session ends. */
  readonly done: Promise<number | null>;
}

/** The address and identity of one host, as every provider describes it. */
export interface HostTarget {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly username: string;
  /** Absolute path of the private key. */
  readonly keyPath: string;
}

/** One open connection to one host, reused by every step of a command. */
export interface RemoteHost {
  readonly target: HostTarget;
  exec(command: RemoteCommand, options?: ExecOptions): Promise<ExecResult>;
  files(): Promise<RemoteFiles>;
  /** A TCP stream to `host:port` as seen from the remote host (ssh -L). */
  forward(host: string, port: number): Promise<Duplex>;
  shell(pty: PtyOptions): Promise<RemoteShell>;
  /** Resolves with a reason when the connection ends (closed by us, or lost). */
  readonly closed: Promise<string>;
  /**
   * Ends this connection (others of the same connector stay open); commands still running on it
   * end too, and fail with `reason` when one is given.
   */
  close(reason?: string): void;
}

export interface ConnectOptions {
  /**
   * `verify` (the default): the pinned key must match, a first contact is pinned after login.
   * `{ expect }`: for the first logins after a reinstall we caused (NixOS conversion). The host
   * must present exactly `expect`, the key it was given before the reboot over a trusted
   * connection; any other key is refused before authentication (a HostKeyMismatch), whatever is
   * pinned. Nothing is pinned: the caller checks the host (boot id, /etc/NIXOS) and then calls
   * `pinHostKey`.
   */
  readonly hostKey?: 'verify' | { readonly expect: HostKey };
  /** Overrides the connector's connect timeout for this call (a rebooting host needs longer). */
  readonly timeoutMs?: number;
}

export interface HostConnector {
  /** Connects (with bounded retries) and verifies the host key before anything runs. */
  connect(target: HostTarget, options?: ConnectOptions): Promise<RemoteHost>;
  /** Pins `key` as the target's only key (replacing what was pinned): after a verified conversion. */
  pinHostKey(target: HostTarget, key: HostKey): Promise<void>;
  /** Forgets the pinned keys of a target: its address now belongs to a newly created server. */
  forgetHostKey(target: HostTarget): Promise<void>;
  /** Closes every connection this connector opened. */
  closeAll(): Promise<void>;
}
