import type { HostOutcome } from '../core/remote/fanout.js';

/**
 * The closing account of a multi-host command, for stderr: how many hosts succeeded, and for each
 * failed one the reason and the tail of its output. Printed for every multi-host command, so an
 * operator (or a CI log) always ends with the answer to "did it work everywhere?".
 */
export function summarise(outcomes: readonly HostOutcome<unknown>[]): string {
  const failed = outcomes.filter((o) => !o.ok);
  const ok = outcomes.length - failed.length;
  const head = failed.length === 0 ? `${ok} ok` : `${ok} ok, ${failed.length} failed:`;
  const lines = [head];
  for (const outcome of failed) {
    lines.push(`  ${outcome.host}: ${outcome.error ?? 'failed'}`);
    for (const detail of outcome.details ?? []) lines.push(`    ${detail}`);
  }
  return lines.join('\n');
}
