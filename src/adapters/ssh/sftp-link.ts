import { OperationFailed } from '../../domain/errors.js';

/** What an SFTP session needs from the connection it runs on. */
export interface ConnectionLiveness {
  /** Why the connection ended, once it has. */
  lost(): Error | undefined;
  /** Ends the connection at once because of `reason` (every request on it fails with it). */
  kill(reason: Error): void;
}

/**
 * Every SFTP request of one session goes through here, so none can wait forever:
 * - when the connection ends, every pending request fails with the reason at once (ssh2 answers
 *   requests it had sent with "No response from server", but a request made after the end, such
 *   as the close or unlink of a cleanup, would never be answered);
 * - a progress deadline: when requests are pending and the server has answered none of them for
 *   `progressMs`, the connection is ended (a stalled host: keepalives may still be answered by
 *   its sshd while its SFTP server hangs on a disk).
 * One watchdog per session, not a timer per request: an upload sends thousands of writes a second.
 */
export class SftpLink {
  private readonly pending = new Set<{ readonly reject: (err: Error) => void }>();
  private lastAnswer = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly hostName: string,
    private readonly connection: ConnectionLiveness,
    private readonly progressMs: number,
  ) {}

  /** Runs one ssh2 SFTP call; its callback settles the promise, unless the connection goes first. */
  call<T>(run: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
    const lost = this.connection.lost();
    if (lost) return Promise.reject(lost);
    return new Promise<T>((resolve, reject) => {
      const request = { reject };
      if (this.pending.size === 0) this.lastAnswer = Date.now();
      this.pending.add(request);
      this.watch();
      run((err, value) => {
        if (!this.pending.delete(request)) return; // already failed with the connection
        this.lastAnswer = Date.now();
        if (this.pending.size === 0) this.unwatch();
        if (err) reject(err);
        else resolve(value);
      });
    });
  }

  connectionLost(): boolean {
    return this.connection.lost() !== undefined;
  }

  /** The connection ended: fail everything still waiting. */
  failAll(reason: Error): void {
    this.unwatch();
    const waiting = [...this.pending];
    this.pending.clear();
    for (const request of waiting) request.reject(reason);
  }

  private watch(): void {
    if (this.watchdog !== undefined) return;
    this.watchdog = setInterval(() => {
      if (this.pending.size === 0 || Date.now() - this.lastAnswer < this.progressMs) return;
      const reason = new OperationFailed(`${this.hostName}: no answer to SFTP requests for ${this.progressMs / 1000} s; giving up on the host`);
      this.connection.kill(reason);
      this.failAll(reason);
    }, Math.max(100, Math.floor(this.progressMs / 4)));
    this.watchdog.unref();
  }

  private unwatch(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
