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

/**
 * Splits an operator's argument string (such as action --cmd "create-db 'my db'") into words the
 * way a shell would for quoting only: single and double quotes group, a backslash escapes the next
 * character, and nothing is expanded, so `$(...)` and backticks stay literal text.
 */
export function splitWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < input.length) current += input[++i];
      else current += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < input.length) {
      current += input[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new UserError(`unterminated ${quote} quote in ${JSON.stringify(input)}`);
  if (inWord) words.push(current);
  return words;
}
