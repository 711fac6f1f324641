/**
 * Adding values to a project's .env as text, so the operator's own lines and comments stay as
 * they are: a key already assigned in the file is never changed, new keys are appended.
 */
import { UserError } from '../../domain/errors.js';

export interface EnvEntry {
  readonly key: string;
  readonly value: string;
  /** A comment line written above the entry. */
  readonly comment?: string;
}

const BARE = /^[A-Za-z0-9_@.+\-/:,]*$/;

/** The value as dotenv reads it back unchanged: bare when it can be, else single-quoted (literal). */
export function envLiteral(key: string, value: string): string {
  if (BARE.test(value)) return value;
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `'${value}'`;
  throw new UserError(`${key}: a value with a single quote or a line break cannot be saved in .env`, {
    hints: [`choose another value, or write ${key} into .env yourself`],
  });
}

/** Keys assigned in a .env text (`KEY=...` or `export KEY=...`). */
export function assignedKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (match?.[1] !== undefined) keys.add(match[1]);
  }
  return keys;
}

/**
 * The new text of the file with `entries` appended that it does not assign yet, and the keys
 * that were added. Every value is checked before anything is returned.
 */
export function withEnvEntries(existing: string, entries: readonly EnvEntry[], heading: string): { text: string; added: string[] } {
  const present = assignedKeys(existing);
  const fresh = entries.filter((entry) => !present.has(entry.key));
  if (fresh.length === 0) return { text: existing, added: [] };
  const lines = fresh.flatMap((entry) => [...(entry.comment === undefined ? [] : [`# ${entry.comment}`]), `${entry.key}=${envLiteral(entry.key, entry.value)}`]);
  const base = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  const gap = base === '' ? '' : '\n';
  return { text: `${base}${gap}# ${heading}\n${lines.join('\n')}\n`, added: fresh.map((entry) => entry.key) };
}
