import { Listr, type ListrTaskWrapper, type ListrDefaultRenderer, type ListrSimpleRenderer } from 'listr2';
import type { ProgressEvent, Reporter } from '../ports/reporter.js';

type HostTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

interface Pending {
  task?: HostTask;
  settle?: { resolve: () => void; reject: (err: Error) => void };
  /** How the host ended, kept in case listr starts its task after the news arrived. */
  outcome?: { ok: true } | { ok: false; reason: string };
  output: string[];
}

function settle(pending: Pending): void {
  if (pending.outcome === undefined || pending.settle === undefined) return;
  if (pending.outcome.ok) pending.settle.resolve();
  else pending.settle.reject(new Error(pending.outcome.reason));
}

/**
 * On a terminal: one listr2 task per host, showing its latest line while it runs. Full output is
 * kept and printed as `<node>: <line>` after the tasks finish, so nothing is lost to redraws.
 */
export class ListrHostReporter implements Reporter {
  private readonly hosts = new Map<string, Pending>();
  private running: Promise<void> | undefined;
  private readonly order: string[];

  /** The task list is drawn on the first host event, so errors raised before any host work
   * (bad input found while preparing) print normally instead of under a spinner. */
  constructor(
    private readonly hostNames: readonly string[],
    private readonly title: string,
  ) {
    this.order = [...hostNames];
    for (const name of hostNames) this.hosts.set(name, { output: [] });
  }

  private start(): void {
    const { hostNames, title } = this;
    const list = new Listr(
      hostNames.map((name) => ({
        title: name,
        rendererOptions: { outputBar: 1 },
        task: (_ctx: unknown, task: HostTask) =>
          new Promise<void>((resolve, reject) => {
            const pending = this.hosts.get(name) as Pending;
            pending.task = task;
            pending.settle = { resolve, reject };
            settle(pending);
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    process.stderr.write(`${title}\n`);
    this.running = list.run().then(
      () => undefined,
      () => undefined,
    );
  }

  emit(event: ProgressEvent): void {
    if (event.kind === 'warning') {
      process.stderr.write(`warning: ${event.host === undefined ? '' : `${event.host}: `}${event.message}\n`);
      return;
    }
    if (!('host' in event) || event.host === undefined) return;
    if (this.running === undefined) this.start();
    const pending = this.hosts.get(event.host);
    if (pending === undefined) return;
    if (event.kind === 'output') {
      for (const line of event.text.split('\n')) pending.output.push(`${event.host}: ${line}`);
      if (pending.task) pending.task.output = event.text.split('\n').at(-1) ?? '';
    } else if (event.kind === 'transfer' && pending.task) {
      pending.task.output = `${event.done}/${event.total} files`;
    } else if (event.kind === 'host') {
      if (event.state === 'ok') pending.outcome = { ok: true };
      if (event.state === 'failed') pending.outcome = { ok: false, reason: event.detail ?? 'failed' };
      settle(pending);
    }
  }

  /** Ends every task that has not finished (the command stopped early), then finishes. */
  async abort(reason: string): Promise<void> {
    for (const pending of this.hosts.values()) {
      pending.outcome ??= { ok: false, reason };
      settle(pending);
    }
    await this.finish();
  }

  /** Waits for the task list to finish drawing, then prints the collected output. */
  async finish(): Promise<void> {
    await this.running;
    const lines = this.order.flatMap((name) => this.hosts.get(name)?.output ?? []);
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  }
}
