import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import type { Prompter } from '../ports/prompter.js';
import type { Reporter } from '../ports/reporter.js';

/**
 * The value for `secrets store`, from exactly one source: --secret-file, --secret, piped stdin,
 * or (stdin a terminal) a hidden prompt that asks twice, since a typo would go unnoticed.
 * --secret works (upstream scripts use it) but is warned about: argv is visible in `ps` and ends
 * up in shell history.
 */
export async function readSecretInput(options: {
  secret: string | undefined;
  secretFile: string | undefined;
  cwd: string;
  reporter: Reporter;
  prompter: Prompter;
  /** The secret's name, for the prompt. */
  name: string;
}): Promise<Buffer> {
  const { secret, secretFile } = options;
  if (secret !== undefined && secretFile !== undefined) {
    throw new UserError('give either --secret or --secret-file, not both');
  }
  if (secretFile !== undefined) {
    const file = path.resolve(options.cwd, secretFile);
    try {
      return await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(`--secret-file: cannot read ${file}${code === 'ENOENT' ? ': no such file' : `: ${code}`}`);
    }
  }
  if (secret !== undefined) {
    options.reporter.emit({
      kind: 'warning',
      message: '--secret exposes the value in the process list and shell history; prefer --secret-file or stdin',
    });
    return Buffer.from(secret, 'utf8');
  }
  if (process.stdin.isTTY !== true) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    const value = Buffer.concat(chunks);
    if (value.length > 0) return value;
  }
  if (options.prompter.interactive) {
    const typed = await options.prompter.secret(`value of secret ${options.name}`, { confirm: true });
    if (typed === '') throw new UserError(`the value of secret ${options.name} cannot be empty; nothing was stored`);
    return Buffer.from(typed, 'utf8');
  }
  throw new UserError('no secret given', { hints: ['use --secret-file <path>, pipe the value on stdin, or run on a terminal without --batch to type it'] });
}
