/**
 * Counts the store's mutating file operations so a test can stop the process at each one in
 * turn: with `crashAfter = k` the process kills itself with SIGKILL right after its k-th
 * operation, exactly as a power cut or `kill -9` would (no handlers, no cleanup). This is how the
 * rekey's crash safety is proven at every step rather than at a few lucky timings. Without a
 * limit (every normal run) it only counts.
 */
export class CrashPoints {
  private done = 0;

  constructor(private readonly crashAfter?: number) {}

  /** Call after each operation whose interruption the store must survive. */
  passed(): void {
    this.done += 1;
    if (this.crashAfter !== undefined && this.done >= this.crashAfter) process.kill(process.pid, 'SIGKILL');
  }

  get count(): number {
    return this.done;
  }
}
