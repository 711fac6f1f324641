import type { HostKey } from '../../remote/known-hosts.js';
import { SftpLink } from './sftp-link.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { OperationFailed } from '../../domain/errors.js';
import { SecretValue } from '../../domain/secret-value.js';
import { endsWithChannel } from '../../remote/ends-with-channel.js';
import { commandLine } from '../../remote/shell-quote.js';
import type {
  ExecOptions,
  ExecResult,
  HostTarget,
  PtyOptions,
  RemoteCommand,
  RemoteFileInfo,
  RemoteFiles,
  RemoteHost,
  RemoteShell,
} from '../../ports/remote-host.js';

const SFTP_NO_SUCH_FILE = 2;
/** Below every server's limit (OpenSSH accepts 256 KiB; the SFTP draft guarantees 32 KiB). */
const WRITE_CHUNK = 32 * 1024;
const MAX_WRITES_IN_FLIGHT = 16;
/** Mode of the file that reveals the server's umask (see learnUmask). */
const PROBE_MODE = 0o755;

function toCommandLine(command: RemoteCommand): string {
  return 'argv' in command ? commandLine(command.argv) : command.script;
}

/**
 * A command without stdin is wrapped so that it ends with its channel (see endsWithChannel); its
 * stdin then stays open until it ends. A command fed through stdin ends when that input is cut
 * short, so it runs as written.
 */
function wireCommand(command: RemoteCommand, stdin: ExecOptions['stdin']): string {
  return stdin === undefined ? endsWithChannel(toCommandLine(command)) : toCommandLine(command);
}

/** How a connection notices a dead or stalled host (see Ssh2Connector). */
export interface Liveness {
  /** Keepalives unanswered for this long end the connection (ssh2's keepalive timeout). */
  readonly keepaliveBoundMs: number;
  /** SFTP requests unanswered for this long end the connection. */
  readonly progressMs: number;
}

function promised<T>(run: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}

/** One authenticated ssh2 connection; every step of a command on this host goes through it. */
export class Ssh2Host implements RemoteHost {
  private sftpSession: Promise<Ssh2Files> | undefined;
  private lostReason: Error | undefined;
  private readonly link: SftpLink;
  readonly closed: Promise<string>;
  private markClosed: (reason: string) => void = () => undefined;

  constructor(
    readonly target: HostTarget,
    private readonly client: Client,
    liveness: Liveness,
    /** The host key this connection was made with (the connector pins or checks it). */
    readonly presentedKey?: HostKey,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.link = new SftpLink(target.name, { lost: () => this.lostReason, kill: (reason) => this.kill(reason) }, liveness.progressMs);
    const lost = (reason: string) => (err?: Error & { level?: string }) => {
      const why =
        err?.level === 'client-timeout'
          ? `no answer for ${Math.round(liveness.keepaliveBoundMs / 1000)} s (SSH keepalives unanswered): host down or unreachable`
          : `connection lost (${err?.message ?? reason})`;
      this.lostReason ??= new OperationFailed(`${target.name}: ${why}`);
      this.link.failAll(this.lostReason);
      this.markClosed(this.lostReason.message);
    };
    client.on('error', lost('error'));
    client.on('close', lost('closed'));
  }

  /** Why this connection ended, or undefined while it is up. */
  lost(): Error | undefined {
    return this.lostReason;
  }

  /** Temporary files of writes that did not finish (still in flight, or cut off with the connection). */
  partFiles(): string[] {
    return this.openedFiles?.partFiles() ?? [];
  }

  /** Removes part files on this (live) connection; what cannot be removed is left to the caller. */
  async removePartFiles(): Promise<void> {
    await this.openedFiles?.removePartFiles();
  }

  private openedFiles: Ssh2Files | undefined;

  private kill(reason: Error): void {
    this.lostReason ??= reason;
    this.link.failAll(this.lostReason);
    this.markClosed(this.lostReason.message);
    this.client.destroy();
  }

  exec(command: RemoteCommand, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.lostReason) return reject(this.lostReason);
      this.client.exec(wireCommand(command, options.stdin), (err, channel) => {
        if (err) return reject(new OperationFailed(`${this.target.name}: cannot start command: ${err.message}`));
        this.collect(channel, options).then(resolve, reject);
      });
    });
  }

  private collect(channel: ClientChannel, options: ExecOptions): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode: number | null = null;
      let signal: string | undefined;
      let handlerFailed: unknown;
      // ssh2 calls these from its connection's data handler: a throw there would end the whole
      // connection (every other command on it too). A failing callback fails only this command,
      // whose channel is closed, which also stops the remote process.
      const deliver = (stream: 'stdout' | 'stderr', chunk: Buffer): void => {
        if (handlerFailed !== undefined || options.onOutput === undefined) return;
        try {
          options.onOutput(stream, chunk);
        } catch (err) {
          handlerFailed = err;
          channel.close();
        }
      };
      channel.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        deliver('stdout', chunk);
      });
      channel.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        deliver('stderr', chunk);
      });
      channel.on('exit', (code: number | null, sig?: string) => {
        exitCode = code;
        if (sig) signal = sig;
      });
      channel.on('error', (err: Error) => reject(new OperationFailed(`${this.target.name}: ${err.message}`)));
      channel.on('close', () => {
        if (handlerFailed !== undefined) return reject(handlerFailed instanceof Error ? handlerFailed : new Error(String(handlerFailed)));
        // A channel that closes without an exit status was cut off (host or sshd went away).
        if (exitCode === null && signal === undefined && this.lostReason) return reject(this.lostReason);
        resolve({ exitCode, ...(signal === undefined ? {} : { signal }), stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
      });
      this.feedStdin(channel, options.stdin);
    });
  }

  private feedStdin(channel: ClientChannel, stdin: ExecOptions['stdin']): void {
    // No input: stdin stays open, held by the remote watcher until the command ends.
    if (stdin === undefined) return;
    if (stdin instanceof SecretValue) return void channel.end(stdin.reveal());
    if (Buffer.isBuffer(stdin)) return void channel.end(stdin);
    stdin.pipe(channel);
  }

  files(): Promise<RemoteFiles> {
    this.sftpSession ??= this.link.call<SFTPWrapper>((cb) => this.client.sftp(cb)).then(
      (sftp) => (this.openedFiles = new Ssh2Files(sftp, this.link)),
      (err: Error) => {
        this.sftpSession = undefined;
        throw new OperationFailed(`${this.target.name}: cannot open SFTP: ${err.message}`);
      },
    );
    return this.sftpSession;
  }

  forward(host: string, port: number): Promise<Duplex> {
    return promised<ClientChannel>((cb) => this.client.forwardOut('127.0.0.1', 0, host, port, cb)).catch((err: Error) => {
      throw new OperationFailed(`${this.target.name}: cannot reach ${host}:${port} from the host: ${err.message}`);
    });
  }

  async shell(pty: PtyOptions): Promise<RemoteShell> {
    const channel = await promised<ClientChannel>((cb) => this.client.shell({ term: pty.term, rows: pty.rows, cols: pty.cols }, cb));
    const done = new Promise<number | null>((resolve) => {
      let code: number | null = null;
      channel.on('exit', (c: number | null) => (code = c));
      channel.on('close', () => resolve(code));
    });
    return { stream: channel, resize: (rows, cols) => channel.setWindow(rows, cols, 0, 0), done };
  }

  close(reason?: string): void {
    // What commands still running on this connection fail with (e.g. "interrupted").
    if (reason !== undefined) this.lostReason ??= new OperationFailed(`${this.target.name}: ${reason}`);
    this.client.end();
  }
}

/**
 * SFTP status messages name no file ("No such file", "Permission denied"): every error leaving
 * this class says which path and which operation, so two runs colliding on a node can be told
 * apart (a missing folder, a file replaced meanwhile).
 */
function pathError(operation: string, remotePath: string, err: unknown): OperationFailed {
  if (err instanceof OperationFailed) return err;
  return new OperationFailed(`cannot ${operation} ${remotePath}: ${(err as Error).message}`);
}

/** SFTP operations with atomic writes (temp name + POSIX rename). */
class Ssh2Files implements RemoteFiles {
  /** The server's umask, learned once per session (see `writeFile`). */
  private umask: Promise<number> | undefined;

  /** Temporary names of writes in flight, and of writes the connection cut off. */
  private readonly parts = new Set<string>();

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly link: SftpLink,
  ) {}

  partFiles(): string[] {
    return [...this.parts];
  }

  async removePartFiles(): Promise<void> {
    await Promise.all(
      [...this.parts].map((temp) =>
        this.link.call<void>((cb) => this.sftp.unlink(temp, (err) => cb(err && (err as { code?: number }).code !== SFTP_NO_SUCH_FILE ? err : null, undefined))).then(
          () => this.parts.delete(temp),
          () => undefined,
        ),
      ),
    );
  }

  /**
   * Files are created with the wanted mode, which the server filters through its umask. Knowing
   * the umask tells which files need an extra chmod: with the usual 022, none of the usual modes
   * do, which saves a request per file (a fifth of an upload's server work). Learned by creating
   * one probe file with mode 0755 (never writable by others, even for a moment) next to the first
   * upload; the write bits for group and others stay unknown, so modes with them get a chmod.
   */
  private learnUmask(folder: string): Promise<number> {
    this.umask ??= (async () => {
      const probe = path.posix.join(folder, `.nix-infra-umask.${randomBytes(4).toString('hex')}`);
      const handle = await this.link.call<Buffer>((cb) => this.sftp.open(probe, 'w', { mode: PROBE_MODE }, cb));
      try {
        const stats = await this.link.call<import('ssh2').Stats>((cb) => this.sftp.fstat(handle, cb));
        return (~stats.mode & PROBE_MODE) | (0o7777 & ~PROBE_MODE);
      } finally {
        await this.link.call<void>((cb) => this.sftp.close(handle, () => cb(null, undefined)));
        await this.link.call<void>((cb) => this.sftp.unlink(probe, () => cb(null, undefined)));
      }
    })().catch(() => 0o7777); // unknown: chmod every file
    return this.umask;
  }

  async stat(remotePath: string): Promise<RemoteFileInfo | undefined> {
    try {
      const stats = await this.link.call<import('ssh2').Stats>((cb) => this.sftp.stat(remotePath, cb));
      return { mode: stats.mode & 0o7777, size: stats.size, isDirectory: stats.isDirectory() };
    } catch (err) {
      if ((err as { code?: number }).code === SFTP_NO_SUCH_FILE) return undefined;
      throw pathError('stat', remotePath, err);
    }
  }

  async mkdirp(remotePath: string, mode = 0o755): Promise<void> {
    const parts = path.posix.resolve('/', remotePath).split('/').filter(Boolean);
    let current = '';
    for (const part of parts) {
      current += `/${part}`;
      const existing = await this.stat(current);
      if (existing?.isDirectory) continue;
      if (existing) throw new OperationFailed(`${current} exists and is not a folder`);
      await this.link.call<void>((cb) => this.sftp.mkdir(current, { mode }, (err) => cb(err, undefined))).catch(async (err: Error) => {
        // Another upload to the same host may have created it meanwhile.
        if (!(await this.stat(current))?.isDirectory) throw pathError('create the folder', current, err);
      });
    }
  }

  /**
   * Open, then every chunk written without waiting for the previous one (SFTP servers answer in
   * order; waiting per chunk made uploads latency-bound), then chmod, close and rename. The rename
   * is only sent once every write has succeeded, so a failed upload never replaces the target.
   */
  async writeFile(remotePath: string, source: Buffer | Readable, mode: number): Promise<void> {
    const temp = path.posix.join(path.posix.dirname(remotePath), `.${path.posix.basename(remotePath)}.${randomBytes(4).toString('hex')}.tmp`);
    const umask = await this.learnUmask(path.posix.dirname(remotePath));
    // Counted as a part file from the request on: a connection lost before the answer may
    // still have created it.
    this.parts.add(temp);
    const handle = await this.link.call<Buffer>((cb) => this.sftp.open(temp, 'w', { mode }, cb)).catch((err: Error) => {
      if (!this.link.connectionLost()) this.parts.delete(temp);
      // SFTP says only "No such file": name what could not be written.
      throw new OperationFailed(`cannot write ${remotePath}: ${err.message}`);
    });
    let closed = false;
    try {
      await this.writeChunks(handle, source).catch((err: unknown) => {
        throw pathError('write', temp, err);
      });
      // Set the exact mode before the file becomes visible, where the umask would have changed it.
      if ((mode & umask) !== 0)
        await this.link.call<void>((cb) => this.sftp.fchmod(handle, mode, (err) => cb(err, undefined))).catch((err: unknown) => {
          throw pathError('set the mode of', temp, err);
        });
      closed = true;
      await this.link.call<void>((cb) => this.sftp.close(handle, (err) => cb(err, undefined))).catch((err: unknown) => {
        throw pathError('close', temp, err);
      });
      await this.link.call<void>((cb) => this.sftp.ext_openssh_rename(temp, remotePath, (err) => cb(err, undefined))).catch((err: unknown) => {
        throw pathError(`rename ${temp} to`, remotePath, err);
      });
      this.parts.delete(temp);
    } catch (err) {
      // On a live connection the part file goes now; when the connection is gone these calls
      // fail at once and the name stays in `parts`, for the connector to remove if the host
      // answers again.
      if (!closed) await this.link.call<void>((cb) => this.sftp.close(handle, () => cb(null, undefined))).catch(() => undefined);
      await this.link
        .call<void>((cb) => this.sftp.unlink(temp, () => cb(null, undefined)))
        .then(
          () => this.parts.delete(temp),
          () => undefined,
        );
      throw pathError('write', remotePath, err);
    }
  }

  private async writeChunks(handle: Buffer, source: Buffer | Readable): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let position = 0;
    const send = async (chunk: Buffer): Promise<void> => {
      for (let off = 0; off < chunk.length; off += WRITE_CHUNK) {
        const len = Math.min(WRITE_CHUNK, chunk.length - off);
        const request = this.link.call<void>((cb) => this.sftp.write(handle, chunk, off, len, position, (err) => cb(err, undefined)));
        position += len;
        inFlight.add(request);
        void request.then(
          () => inFlight.delete(request),
          () => undefined,
        );
        // Bounded pipelining: memory stays flat for large files.
        if (inFlight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(inFlight);
      }
    };
    if (Buffer.isBuffer(source)) await send(source);
    else for await (const chunk of source) await send(chunk as Buffer);
    await Promise.all(inFlight);
  }

  async remove(remotePath: string): Promise<void> {
    await this.link.call<void>((cb) =>
      this.sftp.unlink(remotePath, (err) => cb(err && (err as { code?: number }).code !== SFTP_NO_SUCH_FILE ? err : null, undefined)),
    ).catch((err: unknown) => {
      throw pathError('remove', remotePath, err);
    });
  }
}

