import { Flags } from '@oclif/core';

/** `--target`, as upstream ("a b"), with commas, or repeated. */
export const targetFlag = Flags.string({
  summary: 'Node name(s): "a b", "a,b", or the flag repeated.',
  multiple: true,
  multipleNonGreedy: true,
  required: true,
});

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
  concurrency: Flags.integer({
    summary: 'Hosts worked on at the same time.',
    default: 32,
    min: 1,
    max: 1024,
    helpGroup: 'CONNECTION',
  }),
  'connect-timeout': Flags.integer({
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
