import type { HostStatusView } from '../core/status/compartments.js';

export interface FleetSnapshot {
  readonly at: string;
  readonly hosts: readonly HostStatusView[];
  /** Why the last pass failed as a whole (inventory unreadable, control plane down). */
  readonly error?: string;
}

/**
 * Polls the fleet's status in the background and tells subscribers (the live page streams) about
 * each new snapshot. One pass at a time: a slow pass delays the next instead of piling up.
 */
export class StatusPoller {
  private latest: FleetSnapshot | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(snapshot: FleetSnapshot) => void>();

  constructor(
    private readonly pass: () => Promise<readonly HostStatusView[]>,
    private readonly intervalMs: number,
    private readonly now: () => Date,
  ) {}

  get snapshot(): FleetSnapshot | undefined {
    return this.latest;
  }

  start(): void {
    const loop = async (): Promise<void> => {
      await this.refresh();
      this.timer = setTimeout(() => void loop(), this.intervalMs);
    };
    void loop();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs a pass now, or waits for the one in progress. */
  refresh(): Promise<void> {
    this.running ??= (async () => {
      try {
        this.publish({ at: this.now().toISOString(), hosts: await this.pass() });
      } catch (err) {
        this.publish({ at: this.now().toISOString(), hosts: this.latest?.hosts ?? [], error: (err as Error).message });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  subscribe(listener: (snapshot: FleetSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(snapshot: FleetSnapshot): void {
    this.latest = snapshot;
    for (const listener of this.listeners) listener(snapshot);
  }
}
