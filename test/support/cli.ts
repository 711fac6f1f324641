import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './repo.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built CLI as an operator would: a child process with a minimal environment (so the
 * developer's own variables cannot change a result), optional stdin, no terminal.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A reply to a prompt on the terminal (see test/support/pty_run.py). */
export type TerminalReply = string | { keys: string } | { wait: true } | { resize: [number, number] };

export interface TerminalResult {
  /** The exit code, or 'timeout' when the command had to be killed. */
  readonly code: number | 'timeout';
  /** What each terminal showed, control sequences removed and line ends as `\n`. */
  readonly stdout: string;
  readonly stderr: string;
}

/** What a person reads on a terminal: no cursor or colour sequences, `\n` line ends. */
function readable(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, '').replace(/\r\n/g, '\n').replace(/\r/g, '\n');
}

/**
 * Runs the built CLI with stdout and stderr on two pseudo-terminals of their own (as in a
 * terminal window, where both are terminals, but kept apart so a test can tell which stream a
 * line went to), answering prompts in order. `timeoutSeconds` bounds each wait and the end.
 */
export async function runCliOnTerminals(
  args: readonly string[],
  options: { env?: Record<string, string>; answers?: readonly (readonly [string | readonly string[], TerminalReply])[]; timeoutSeconds?: number } = {},
): Promise<TerminalResult> {
  const spec = {
    argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), ...args],
    answers: options.answers ?? [],
    size: [40, 160],
    stderr_pty: true,
    timeout: options.timeoutSeconds ?? 120,
  };
  const { stdout } = await promisify(execFile)('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), JSON.stringify(spec)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TERM: 'xterm', ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = JSON.parse(stdout) as { exit: number | 'timeout'; transcript: string; stderr: string };
  return { code: result.exit, stdout: readable(result.transcript), stderr: readable(result.stderr) };
}

/**
 * Runs the built CLI without a terminal (like runCli) and sends it `signal` once every pattern
 * has shown on its stdout or stderr; resolves when it exits. Bounded: after `timeoutMs` without
 * all patterns the child is killed and the result says so in stderr.
 */
export function runCliAndSignal(
  args: readonly string[],
  options: { env?: Record<string, string>; when: readonly RegExp[]; signal: NodeJS.Signals; timeoutMs?: number },
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      stderr += `\n[test: killed, ${options.when.join(', ')} not all seen within ${options.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    const check = (): void => {
      if (!sent && options.when.every((re) => re.test(stdout) || re.test(stderr))) {
        sent = true;
        child.kill(options.signal);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString('utf8')), check()));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString('utf8')), check()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end();
  });
}

/** The environment a batch `init` needs for a CA. */
export const caEnv = {
  CA_PASS: 'root-ca-pass',
  INTERMEDIATE_CA_PASS: 'intermediate-ca-pass',
  CERT_EMAIL: 'ops@example.com',
} as const;

/**
 * `port-forward` as an operator runs it: started in the background, ready once it prints the
 * `Forwarding 127.0.0.1:<port> -> ...` line, which must also match `announced`; `stop()` sends
 * SIGINT and resolves with the exit code.
 */
export async function startPortForward(
  args: readonly string[],
  env: Record<string, string>,
  announced: RegExp = /./,
): Promise<{ port: number; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', () => {
      const match = /^Forwarding 127\.0\.0\.1:(\d+) .*$/m.exec(stderr);
      if (match && announced.test(match[0])) resolve(Number(match[1]));
    });
    child.on('close', () => reject(new Error(`port-forward exited: ${stderr}`)));
  });
  return {
    port,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** GET on the forwarded port, retried while the service behind it is still starting (bounded). */
export async function fetchThrough(port: number): Promise<string> {
  let body = '';
  for (let attempt = 0; attempt < 50 && body === ''; attempt++) {
    body = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.text(),
      () => new Promise<string>((resolve) => setTimeout(() => resolve(''), 100)),
    );
  }
  return body;
}
