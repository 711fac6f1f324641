import type { ProgressEvent, Reporter } from '../ports/reporter.js';

/**
 * Renders progress events as plain lines on stderr (stdout carries only results).
 * Host output keeps upstream's `<node>: <line>` form, which operators' scripts grep for.
 * Files that were left as they were are only listed with --debug; a summary counts them.
 */
export class LineReporter implements Reporter {
  private created = 0;
  private kept = 0;

  constructor(
    private readonly options: { debug: boolean; quiet: boolean; write?: (line: string) => void; writeResult?: (line: string) => void },
  ) {}

  emit(event: ProgressEvent): void {
    switch (event.kind) {
      case 'created':
        this.created += 1;
        this.line(`created ${event.path} (${event.what})`);
        break;
      case 'skipped':
        this.kept += 1;
        if (this.options.debug) this.line(`kept ${event.path} (${event.reason})`);
        break;
      case 'warning':
        // Warnings are shown even in quiet (--json) mode: they are on stderr and they matter.
        this.write(`warning: ${event.host === undefined ? '' : `${event.host}: `}${event.message}`);
        break;
      case 'step':
        this.line(event.host === undefined ? event.message : `${event.host}: ${event.message}`);
        break;
      case 'output':
        // Remote stdout is the command's result (stdout); remote stderr stays on stderr.
        if (this.options.quiet) break;
        for (const text of event.text.split('\n')) {
          if (event.stream === 'stdout') this.result(`${event.host}: ${text}`);
          else this.write(`${event.host}: ${text}`);
        }
        break;
      case 'host':
        if (event.state === 'failed') this.line(`${event.host}: failed: ${event.detail ?? ''}`);
        else if (this.options.debug) this.line(`${event.host}: ${event.state}`);
        break;
      case 'transfer':
        if (this.options.debug && event.path !== undefined) this.line(`${event.host}: uploaded ${event.path} (${event.done}/${event.total})`);
        break;
    }
  }

  /** A one-line account of what changed, e.g. for a re-run of init. */
  summary(): string {
    return `${this.created} created, ${this.kept} already present`;
  }

  private result(text: string): void {
    (this.options.writeResult ?? ((line: string) => process.stdout.write(`${line}\n`)))(text);
  }

  private line(text: string): void {
    if (!this.options.quiet) this.write(text);
  }

  private write(text: string): void {
    (this.options.write ?? ((line: string) => process.stderr.write(`${line}\n`)))(text);
  }
}
