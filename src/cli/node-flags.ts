import { Flags } from '@oclif/core';
import { wholeNumberFlag } from './numeric-flag.js';

const targetSummary = 'Nodes: names ("a b", "a,b", or repeated) or selectors: web-*, @tag, role:NAME, tier:NAME, all, !SEL, A+B.';

/** `--target` (alias `--on`): upstream's names ("a b"), with commas, repeated, or selectors. */
export const targetFlag = Flags.string({
  summary: targetSummary,
  multiple: true,
  multipleNonGreedy: true,
  required: true,
  aliases: ['on'],
});

/** The same, optional: a filter for listings. */
export const optionalTargetFlag = Flags.string({ summary: `Only these nodes. ${targetSummary}`, multiple: true, multipleNonGreedy: true, aliases: ['on'] });

/**
 * `--strict` of the commands that render node files: a node or overlay IP that does not exist
 * yet is an error instead of a warning (see docs/deploy.md, "Placeholders").
 */
export const strictFlag = Flags.boolean({
  summary: 'A node or overlay IP the node file names that does not exist yet is an error, not a warning.',
  default: false,
});

/** Flags of every command that connects to nodes. */
export const connectionFlags = {
  concurrency: wholeNumberFlag({
    summary: 'Hosts worked on at the same time.',
    default: 32,
    min: 1,
    max: 1024,
    helpGroup: 'CONNECTION',
  }),
  'connect-timeout': wholeNumberFlag({
    summary: 'Seconds to establish one SSH connection, retries included.',
    default: 20,
    min: 1,
    max: 600,
    helpGroup: 'CONNECTION',
  }),
  'accept-host-key': Flags.string({
    summary: "Accept this node's changed SSH host key (after a reinstall) and pin the new one.",
    multiple: true,
  multipleNonGreedy: true,
    helpGroup: 'CONNECTION',
  }),
};

/**
 * Flags of every command that changes nodes. Carrying them is what marks a command as mutating
 * (see nodeRunOptions): the tier guard, the deploy lock and the audit trail apply to it.
 */
export const mutatingFlags = {
  'allow-tier': Flags.string({
    summary: 'Allow changing nodes of this protected tier without naming it in --target (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'SAFETY',
  }),
  'lock-timeout': wholeNumberFlag({
    summary: "Seconds to wait for another operator's deploy lock on a node (0: fail at once).",
    default: 0,
    min: 0,
    max: 86_400,
    helpGroup: 'SAFETY',
  }),
};
