import { z } from 'zod';
import {
  JOURNAL_PRIORITIES,
  journalSinceArgument,
  journalSinceProblem,
  normaliseUnitName,
  unitNameProblem,
} from '../../domain/probe-inputs.js';

/**
 * The only remote commands an assistant can run: a fixed catalogue of read-only probes. Each is
 * an argv built here from typed, validated parameters; nothing an assistant sends is ever a
 * program name, an option, or shell text. Adding a probe means adding it here, with its tests.
 */

export interface ProbeStep {
  /** Heading in the combined output when a probe runs several commands. */
  readonly label: string;
  readonly argv: readonly string[];
  /** Keep only the first lines (a process list is long; its top is what matters). */
  readonly maxLines?: number;
}

function refineProblem<T>(problem: (value: T) => string | undefined) {
  return (value: T, ctx: z.RefinementCtx): void => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  };
}

export const unitSchema = z.string().max(256).superRefine(refineProblem(unitNameProblem)).describe('systemd unit, e.g. "nginx" or "etcd.service"');

const sinceSchema = z.string().max(40).superRefine(refineProblem(journalSinceProblem));

export const journalInput = {
  unit: unitSchema,
  since: sinceSchema.optional().describe('start time: "1h", "30 min ago", "2026-12-01 10:00", "today" (default: 1h)'),
  priority: z.enum(JOURNAL_PRIORITIES).optional().describe('lowest priority shown (default: info)'),
  lines: z.number().int().min(1).max(1000).optional().describe('at most this many lines, newest last (default 200)'),
};
export type JournalParams = { unit: string; since?: string | undefined; priority?: (typeof JOURNAL_PRIORITIES)[number] | undefined; lines?: number | undefined };

export function unitStatusSteps(unit: string): ProbeStep[] {
  const name = normaliseUnitName(unit);
  // `--` ends systemctl's options, so even a name the schema let through is never a flag.
  return [{ label: 'status', argv: ['systemctl', 'status', '--no-pager', '--lines=20', '--', name] }];
}

export function journalSteps(params: JournalParams): ProbeStep[] {
  const argv = [
    'journalctl',
    '--no-pager',
    '--output=short-iso',
    `--unit=${normaliseUnitName(params.unit)}`,
    `--since=${journalSinceArgument(params.since ?? '1h')}`,
    `--priority=${params.priority ?? 'info'}`,
    `--lines=${params.lines ?? 200}`,
  ];
  return [{ label: 'journal', argv }];
}

/** Probes without parameters, by the name an assistant asks for. */
export const fixedProbes = {
  'system-stats': [
    { label: 'load', argv: ['cat', '/proc/loadavg'] },
    { label: 'memory', argv: ['free', '-h'] },
    { label: 'disk', argv: ['df', '-h', '-x', 'tmpfs', '-x', 'devtmpfs'] },
    { label: 'processes', argv: ['ps', '-eo', 'pid,user,%cpu,%mem,etime,comm', '--sort=-%cpu'], maxLines: 26 },
  ],
  'listening-ports': [{ label: 'listening', argv: ['ss', '-tulnp'] }],
  'disk-usage': [{ label: 'disk', argv: ['df', '-h'] }],
  addresses: [{ label: 'addresses', argv: ['ip', '-brief', 'address'] }],
  'nixos-version': [{ label: 'nixos-version', argv: ['nixos-version', '--json'] }],
  'failed-units': [{ label: 'failed', argv: ['systemctl', '--failed', '--no-pager', '--plain'] }],
  uptime: [{ label: 'uptime', argv: ['uptime'] }],
} as const satisfies Record<string, readonly ProbeStep[]>;

export type FixedProbeName = keyof typeof fixedProbes;
export const fixedProbeNames = Object.keys(fixedProbes) as [FixedProbeName, ...FixedProbeName[]];
