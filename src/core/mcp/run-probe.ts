import type { HostConnector, HostTarget, RemoteHost } from '../../ports/remote-host.js';
import type { ProbeStep } from './probes.js';

export interface ProbeLimits {
  /** The whole probe (connect included) ends after this long; a hanging host never hangs the caller. */
  readonly timeoutMs: number;
  /** Output kept per step; beyond it the step is cut short and marked truncated. */
  readonly maxBytes: number;
}

export interface ProbeStepResult {
  readonly label: string;
  readonly exitCode: number | null;
  readonly output: string;
  readonly truncated: boolean;
}

export interface ProbeResult {
  readonly node: string;
  readonly ok: boolean;
  readonly steps: readonly ProbeStepResult[];
  /** Why the probe did not complete (connect failure, timeout). */
  readonly error?: string;
}

class ProbeTimeout extends Error {}

/**
 * Runs the steps on one host over one fresh connection, closed afterwards. Output past the cap
 * closes the connection at once rather than buffering what a misbehaving host keeps sending.
 */
export async function runProbe(connector: HostConnector, target: HostTarget, steps: readonly ProbeStep[], limits: ProbeLimits): Promise<ProbeResult> {
  const results: ProbeStepResult[] = [];
  let host: RemoteHost | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`timed out after ${Math.round(limits.timeoutMs / 1000)} s`)), limits.timeoutMs);
  });
  deadline.catch(() => undefined);
  try {
    const work = (async () => {
      host = await connector.connect(target);
      for (const step of steps) {
        const result = await runStep(host, step, limits.maxBytes);
        results.push(result);
        // The connection was closed to stop the flood; later steps could not run on it.
        if (result.truncated) break;
      }
    })();
    await Promise.race([work, deadline]);
    return { node: target.name, ok: results.every((r) => r.exitCode === 0), steps: results };
  } catch (err) {
    const message = (err as Error).message;
    return { node: target.name, ok: false, steps: results, error: message.startsWith(`${target.name}: `) ? message.slice(target.name.length + 2) : message };
  } finally {
    clearTimeout(timer);
    (host as RemoteHost | undefined)?.close();
  }
}

async function runStep(host: RemoteHost, step: ProbeStep, maxBytes: number): Promise<ProbeStepResult> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  const result = await host.exec(
    { argv: step.argv },
    {
      onOutput: (_stream, chunk) => {
        if (truncated) return;
        const room = maxBytes - kept;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          kept = maxBytes;
          truncated = true;
          host.close();
          return;
        }
        chunks.push(chunk);
        kept += chunk.length;
      },
    },
  ).catch((err: unknown) => {
    if (truncated) return { exitCode: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    throw err;
  });
  let output = Buffer.concat(chunks).toString('utf8');
  if (step.maxLines !== undefined) {
    const lines = output.split('\n');
    if (lines.length > step.maxLines + 1) output = `${lines.slice(0, step.maxLines).join('\n')}\n`;
  }
  return { label: step.label, exitCode: truncated ? null : result.exitCode, output, truncated };
}
