import type { HostTarget } from '../../ports/remote-host.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from './fanout.js';
import { lineEmitter, outputTail } from './output-lines.js';

export interface CommandOutput {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the operator's shell command, as written, on every target (upstream's `cmd`). Output is
 * reported line by line as it arrives; a non-zero exit fails that host with its output's tail.
 */
export function runCommand(
  deps: FanoutDeps,
  params: { targets: readonly HostTarget[]; script: string; concurrency: number },
): Promise<HostOutcome<CommandOutput>[]> {
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const lines = lineEmitter(deps.reporter, host.target.name);
    const result = await host.exec({ script: params.script }, { onOutput: lines.push });
    lines.flush();
    const output: CommandOutput = {
      exitCode: result.exitCode,
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
    };
    if (result.exitCode !== 0) {
      const status = result.exitCode === null ? `killed${result.signal ? ` by ${result.signal}` : ''}` : `exit ${result.exitCode}`;
      throw new HostStepFailed(`command failed (${status})`, outputTail(result.stdout, result.stderr), output);
    }
    return output;
  });
}
