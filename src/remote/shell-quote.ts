import { UserError } from '../domain/errors.js';

/** Characters that a POSIX shell never treats specially inside a word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell so it reaches the program as exactly these bytes:
 * single quotes make everything literal (`$`, backticks, `;`, newlines), and a single quote
 * itself is written as '\''. The remote sshd hands our command line to the login shell, so this
 * is the one place user input is made safe for it.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new UserError('an argument for a remote command contains a NUL byte, which cannot be passed');
  if (arg !== '' && SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A remote command line from argv: every element quoted exactly once. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('internal: empty remote argv');
  return argv.map(shellQuote).join(' ');
}
