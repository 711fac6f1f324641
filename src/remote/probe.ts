import type { RemoteCommand } from '../ports/remote-host.js';
import { commandLine } from './shell-quote.js';

/**
 * Several read-only commands in one exec, so planning a host costs one round trip however many
 * things it reads. Each part is an argv (quoted once here, run by `sh -c` once on the node); the
 * script itself is fixed and takes the parts as positional parameters. Output: per part, one line
 * `<stdout as base64> <exit status>` (stderr is dropped: probes report through their status).
 */
const PROBE_SCRIPT = [
  'set -u',
  't=$(mktemp) || exit 1',
  `trap 'rm -f -- "$t"' EXIT`,
  'for part do',
  '  sh -c "$part" nix-infra-probe <&- >"$t" 2>/dev/null',
  '  rc=$?',
  '  base64 -w0 <"$t"',
  '  echo " $rc"',
  'done',
].join('\n');

export function probeCommand(parts: readonly RemoteCommand[]): RemoteCommand {
  return { argv: ['sh', '-c', PROBE_SCRIPT, 'nix-infra-probe', ...parts.map((p) => ('argv' in p ? commandLine(p.argv) : p.script))] };
}

export interface ProbeResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
}

/** probeCommand's output, one result per part, in order. */
export function parseProbe(stdout: Buffer, parts: number): ProbeResult[] {
  const lines = stdout.toString('ascii').split('\n').slice(0, parts);
  if (lines.length !== parts) throw new Error(`unexpected output from the probe script (${lines.length} of ${parts} parts)`);
  return lines.map((line) => {
    const match = /^([A-Za-z0-9+/=]*) (\d+)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) throw new Error('unexpected output from the probe script');
    return { exitCode: Number(match[2]), stdout: Buffer.from(match[1], 'base64') };
  });
}
