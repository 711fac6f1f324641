import { Flags } from '@oclif/core';
import { wholeNumberFlag } from './numeric-flag.js';

/** `--target`, as upstream ("a b"), with commas, or repeated. */
export const targetFlag = Flags.string({
  summary: 'Node name(s): "a b", "a,b", or the flag repeated.',
  multiple: true,
  multipleNonGreedy: true,
  required: true,
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
