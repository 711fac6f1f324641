import { Listr, type ListrTaskWrapper, type ListrDefaultRenderer, type ListrSimpleRenderer } from 'listr2';
import type { ProgressEvent, Reporter } from '../ports/reporter.js';

type HostTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

interface Pending {
  task?: HostTask;
  settle?: { resolve: () => void; reject: (err: Error) => void };
  output: string[];
}

/**
 * On a terminal: one listr2 task per host, showing its latest line while it runs. Full output is
 * kept and printed as `<node>: <line>` after the tasks finish, so nothing is lost to redraws.
 */
export class ListrHostReporter implements Reporter {
  private readonly hosts = new Map<string, Pending>();
  private readonly running: Promise<void>;
  private readonly order: string[];

  constructor(hostNames: readonly string[], title: string) {
    this.order = [...hostNames];
    for (const name of hostNames) this.hosts.set(name, { output: [] });
    const list = new Listr(
      hostNames.map((name) => ({
        title: name,
        rendererOptions: { outputBar: 1 },
        task: (_ctx: unknown, task: HostTask) =>
          new Promise<void>((resolve, reject) => {
            const pending = this.hosts.get(name) as Pending;
            pending.task = task;
            pending.settle = { resolve, reject };
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
    const pending = this.hosts.get(event.host);
    if (pending === undefined) return;
    if (event.kind === 'output') {
      for (const line of event.text.split('\n')) pending.output.push(`${event.host}: ${line}`);
      if (pending.task) pending.task.output = event.text.split('\n').at(-1) ?? '';
    } else if (event.kind === 'transfer' && pending.task) {
      pending.task.output = `${event.done}/${event.total} files`;
    } else if (event.kind === 'host') {
      if (event.state === 'ok') pending.settle?.resolve();
      if (event.state === 'failed') pending.settle?.reject(new Error(event.detail ?? 'failed'));
    }
  }

  /** Waits for the task list to finish drawing, then prints the collected output. */
  async finish(): Promise<void> {
    await this.running;
    const lines = this.order.flatMap((name) => this.hosts.get(name)?.output ?? []);
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  }
}
