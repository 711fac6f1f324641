import { UserError } from './errors.js';

/**
 * Splits an operator's argument string (`action --cmd "create-db 'my db'"`, `etcd ctl "del
 * --prefix /cluster/services"`) into words as a POSIX shell would tokenise them, and does nothing
 * else a shell does: no parameter, command, arithmetic or tilde expansion, no globbing, no
 * operators and no comments, so `$(...)`, backticks, `;`, `*`, `~` and `#` stay literal text.
 * Upstream handed such strings to a remote shell; the words here are passed as argv instead.
 *
 * Quoting follows the shell: outside quotes a backslash keeps the next character (a backslash
 * before a newline joins the lines); single quotes keep everything up to the next single quote;
 * inside double quotes a backslash only escapes `$`, a backtick, `"`, `\` and a newline, and is
 * kept before anything else. Blanks (space, tab, newline) separate words; `''` is an empty word.
 */
export function splitWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string;
    const next = input[i + 1];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && next !== undefined && '$`"\\\n'.includes(next)) {
        if (next !== '\n') current += next;
        i++;
      } else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && next !== undefined) {
      i++;
      if (next === '\n') continue;
      current += next;
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new UserError(`unterminated ${quote} quote in ${JSON.stringify(input)}`, { hints: ['close the quote, or quote the whole string the other way'] });
  if (inWord) words.push(current);
  return words;
}

/**
 * Arguments for a program from a command's positional words: one word is upstream's single
 * string and is split with splitWords; several words already are the argv (the shell that ran
 * nix-infra split them) and are kept as they are.
 */
export function argvFromWords(words: readonly string[]): string[] {
  return words.length === 1 ? splitWords(words[0] as string) : [...words];
}
