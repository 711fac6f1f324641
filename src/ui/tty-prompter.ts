import { createInterface } from 'node:readline/promises';
import { Interrupted, UserError } from '../domain/errors.js';
import type { Prompter } from '../ports/prompter.js';

/**
 * Prompts on the terminal (questions go to stderr so stdout stays clean for results).
 * `--batch` answers every confirmation with yes and refuses every other question, so scripts
 * get a clear error instead of a hang. Without a terminal the same refusal applies.
 */
export class TtyPrompter implements Prompter {
  readonly interactive: boolean;

  constructor(private readonly options: { batch: boolean }) {
    this.interactive = !options.batch && process.stdin.isTTY === true && process.stderr.isTTY === true;
  }

  async confirm(question: string): Promise<boolean> {
    if (this.options.batch) return true;
    if (!this.interactive) {
      throw new UserError(`confirmation needed: ${question}`, { hints: ['pass --batch to answer yes without prompting'] });
    }
    const answer = await this.ask(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  }

  async text(label: string): Promise<string> {
    this.requireInteractive(label);
    return this.ask(`Enter ${label}: `);
  }

  async secret(label: string, options: { confirm?: boolean } = {}): Promise<string> {
    this.requireInteractive(label);
    const first = await this.askHidden(`Enter ${label}: `);
    if (options.confirm) {
      const second = await this.askHidden(`Repeat ${label}: `);
      if (first !== second) throw new UserError(`the two ${label} entries differ; nothing was changed`);
    }
    return first;
  }

  private requireInteractive(label: string): void {
    if (!this.interactive) throw new UserError(`${label} is needed but prompting is off (--batch or no terminal)`);
  }

  private async ask(prompt: string): Promise<string> {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(prompt);
    } catch (err) {
      // readline ends a question on Ctrl-C with an AbortError: the operator's choice, not a bug.
      if ((err as Error).name === 'AbortError') {
        process.stderr.write('\n'); // the message starts on a line of its own, not after the prompt
        throw new Interrupted();
      }
      throw err;
    } finally {
      rl.close();
    }
  }

  /** Reads a line in raw mode without echoing it. Ctrl-C aborts. */
  private askHidden(prompt: string): Promise<string> {
    const stdin = process.stdin;
    // Echo goes off before the prompt appears: input typed (or pasted) right after the prompt
    // must never be shown.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    return new Promise((resolve, reject) => {
      let typed = '';
      const finish = (error?: Error): void => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        process.stderr.write('\n');
        if (error) reject(error);
        else resolve(typed);
      };
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish();
          if (ch === '\u0003') return finish(new Interrupted());
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.resume();
      stdin.on('data', onData);
    });
  }
}
