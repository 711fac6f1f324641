import type { NodeRunOptions } from '../node-run.js';

interface ConnectionFlagValues {
  target: string[];
  concurrency: number;
  'connect-timeout': number;
  'accept-host-key'?: string[];
  /** Present on commands that carry mutatingFlags. */
  'allow-tier'?: string[];
  'lock-timeout'?: number;
}

/** NodeRunOptions from the shared connection flags. */
export function nodeRunOptions(flags: ConnectionFlagValues, extra: { sshKeyName: string | undefined; json: boolean; title: string }): NodeRunOptions {
  return {
    targetValues: flags.target,
    concurrency: flags.concurrency,
    connectTimeoutSeconds: flags['connect-timeout'],
    acceptHostKey: flags['accept-host-key'] ?? [],
    ...(flags['lock-timeout'] === undefined ? {} : { mutation: { allowTiers: flags['allow-tier'] ?? [], lockTimeoutSeconds: flags['lock-timeout'] } }),
    ...extra,
  };
}

/** Options for a command on exactly one node (`ssh`, `port-forward`). */
export function singleNodeOptions(
  flags: { target: string; 'connect-timeout': number; 'accept-host-key'?: string[] },
  sshKeyName: string | undefined,
): Omit<NodeRunOptions, 'json' | 'title' | 'concurrency'> {
  return { targetValues: [flags.target], connectTimeoutSeconds: flags['connect-timeout'], acceptHostKey: flags['accept-host-key'] ?? [], sshKeyName };
}
