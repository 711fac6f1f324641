import {
  Listr,
  ListrLogger,
  ProcessOutput,
  type ListrTaskWrapper,
  type ListrDefaultRenderer,
  type ListrSimpleRenderer,
} from 'listr2';
import type { ProgressEvent, Reporter } from '../ports/reporter.js';

type HostTask = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

/** How a host ended, as the command's final outcomes say. */
export interface HostEnd {
  readonly host: string;
  readonly ok: boolean;
  readonly error?: string;
}

interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

interface Pending {
  task?: HostTask;
  settle?: { resolve: () => void; reject: (err: Error) => void };
  /** Set once, by `finish`/`abort`; kept in case listr starts the task after that. */
  end?: { ok: true } | { ok: false; reason: string };
  /** The task's last line while it runs (a phase's ok/failed is not the host's end). */
  latest?: string;
  output: OutputLine[];
}

function settle(pending: Pending): void {
  if (pending.end === undefined || pending.settle === undefined) return;
  const { resolve, reject } = pending.settle;
  pending.settle = undefined;
  if (pending.end.ok) resolve();
  else reject(new Error(pending.end.reason));
}

/**
 * On a terminal: one listr2 task per host, drawn on stderr, showing its latest line while it
 * runs. A host's task ends only when the whole command ends (`finish`): commands run several
 * phases per host (plan, then deploy; convert, then retry), each with its own ok/failed event,
 * and a task that ended early cannot take the next phase's output. Full output is kept with its
 * stream and printed as `<node>: <line>` after the tasks finish, so nothing is lost to redraws
 * and remote stderr stays on stderr.
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
    // Both of listr's outputs on stderr: stdout carries only results, which may be redirected.
    const logger = new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) });
    const list = new Listr(
      hostNames.map((name) => ({
        title: name,
        rendererOptions: { outputBar: 1 },
        task: (_ctx: unknown, task: HostTask) =>
          new Promise<void>((resolve, reject) => {
            const pending = this.hosts.get(name) as Pending;
            pending.task = task;
            pending.settle = { resolve, reject };
            if (pending.latest !== undefined) task.output = pending.latest;
            settle(pending);
          }),
      })),
      {
        concurrent: true,
        exitOnError: false,
        // Ctrl-C is the command's to handle (it stops the remote work first); listr's own
        // handler would exit at once, with 127.
        registerSignalListeners: false,
        rendererOptions: { collapseErrors: false, logger },
      },
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
      const lines = event.text.split('\n');
      for (const line of lines) pending.output.push({ stream: event.stream, line: `${event.host}: ${line}` });
      this.show(pending, lines.at(-1) ?? '');
    } else if (event.kind === 'transfer') {
      this.show(pending, `${event.done}/${event.total} files`);
    } else if (event.kind === 'step') {
      this.show(pending, event.message);
    } else if (event.kind === 'host' && event.state === 'failed') {
      this.show(pending, `failed: ${event.detail ?? ''}`);
    }
  }

  /** Updates a running task's line; a task that has ended takes nothing any more. */
  private show(pending: Pending, line: string): void {
    if (pending.end !== undefined) return;
    pending.latest = line;
    if (pending.task) pending.task.output = line;
  }

  /** Ends every task that has not finished (the command stopped early), then finishes. */
  async abort(reason: string): Promise<void> {
    await this.finish([], reason);
  }

  /**
   * Ends each host's task as its final outcome says (hosts without one: failed with `reason`),
   * waits for the task list to finish drawing, then prints the collected output.
   */
  async finish(outcomes: readonly HostEnd[], reason = 'stopped'): Promise<void> {
    const byHost = new Map(outcomes.map((o) => [o.host, o]));
    for (const [name, pending] of this.hosts) {
      const outcome = byHost.get(name);
      pending.end ??= outcome?.ok === true ? { ok: true } : { ok: false, reason: outcome?.error ?? reason };
      settle(pending);
    }
    await this.running;
    const lines = this.order.flatMap((name) => this.hosts.get(name)?.output ?? []);
    const of = (stream: OutputLine['stream']): string[] => lines.filter((l) => l.stream === stream).map((l) => l.line);
    if (of('stdout').length > 0) process.stdout.write(`${of('stdout').join('\n')}\n`);
    if (of('stderr').length > 0) process.stderr.write(`${of('stderr').join('\n')}\n`);
  }
}
