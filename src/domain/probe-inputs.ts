/**
 * Rules for the values an AI assistant (or any other untrusted caller) may pass to a read-only
 * probe. Each value ends up as one argv element, so quoting is not the concern here: these rules
 * stop option smuggling (a value that starts with "-" is read as a flag by the remote tool) and
 * keep values to the shapes the tools document, so a surprising input is refused, not guessed at.
 */

const UNIT_TYPES = ['service', 'socket', 'target', 'timer', 'mount', 'automount', 'path', 'slice', 'scope', 'device', 'swap'];

/**
 * systemd unit names: letters, digits and `:_.@-` (systemd escapes anything else as `\xNN`,
 * which we refuse rather than interpret), never starting with "-" or ".", at most 255 chars.
 */
const UNIT_NAME = /^[A-Za-z0-9_:@][A-Za-z0-9_:@.-]{0,254}$/;

/** Returns why `unit` is not an acceptable unit name, or undefined. */
export function unitNameProblem(unit: string): string | undefined {
  if (unit.length === 0) return 'a unit name cannot be empty';
  if (!UNIT_NAME.test(unit)) return 'a unit name may only contain letters, digits and ":_.@-", and may not start with "-" or "."';
  if (unit.includes('..')) return 'a unit name may not contain ".."';
  const dot = unit.lastIndexOf('.');
  if (dot > 0) {
    const suffix = unit.slice(dot + 1);
    if (!UNIT_TYPES.includes(suffix)) return `unknown unit type ".${suffix}" (one of: ${UNIT_TYPES.join(', ')})`;
  }
  return undefined;
}

/** `nginx` means `nginx.service`, as systemctl itself reads it. */
export function normaliseUnitName(unit: string): string {
  const dot = unit.lastIndexOf('.');
  return dot > 0 && UNIT_TYPES.includes(unit.slice(dot + 1)) ? unit : `${unit}.service`;
}

const RELATIVE_TIME = /^-?\d{1,6} ?(s|sec|second|seconds|m|min|minute|minutes|h|hour|hours|d|day|days|w|week|weeks)( ago)?$/;
const ABSOLUTE_TIME = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/;
const NAMED_TIME = ['today', 'yesterday', 'now'];

/** journalctl `--since` values: `1h`, `-30 min`, `2 days ago`, `2026-12-01 10:00`, `today`. */
export function journalSinceProblem(since: string): string | undefined {
  if (RELATIVE_TIME.test(since) || ABSOLUTE_TIME.test(since) || NAMED_TIME.includes(since)) return undefined;
  return 'since: use a relative time ("1h", "30 min ago"), a date ("2026-12-01" or "2026-12-01 10:00") or "today"/"yesterday"';
}

/** journalctl reads `1h` as an absolute time; relative times need a sign or "ago". */
export function journalSinceArgument(since: string): string {
  return RELATIVE_TIME.test(since) && !since.startsWith('-') && !since.endsWith(' ago') ? `-${since}` : since;
}

export const JOURNAL_PRIORITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type JournalPriority = (typeof JOURNAL_PRIORITIES)[number];
