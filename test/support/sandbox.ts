import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from './repo.js';

/**
 * Sandbox test hosts (scripts/sandbox) for node:test: real sshd "machines" in network
 * namespaces, each with its own overlay filesystem and stand-ins for the NixOS tools.
 *
 * Ids: every test FILE runs in its own process, and two may run at once, so each sandbox takes
 * an id (it picks the network NET.<id>.0/24 and the state dir /tmp/nix-infra-sandbox/<id>)
 * through a lock file /tmp/nix-infra-sandbox/ids/<id> holding "<pid> <start time>" of its
 * process. Tests get ids 100-199 (1-99 stay free for people running scripts/sandbox by hand),
 * trying first 100 + pid % 100 and then the next ones. A lock whose process is gone (a test
 * run killed before its t.after ran) is abandoned: the next startSandbox, in any test file,
 * takes it over and runs `down` for it. `down()` releases the id.
 *
 * Hosts boot and reboot: each runs scripts/sandbox.d/host-init.sh as its init (pid 1 of its own
 * pid namespace). Every boot (startSandbox, startHost, a reboot) gives the host a new boot id
 * (/proc/sys/kernel/random/boot_id inside it), a fresh /run, applies what was staged for the
 * next boot and starts its sshd. `reboot` on a host (the stand-in, also /usr/sbin/reboot and
 * `systemctl reboot`) returns 0, then the host reboots: every process of it dies (an SSH
 * session on it drops), it stays down for its reboot delay (`setRebootDelay`, default 1 s) and
 * comes back on the same address with its files. The nixos-infect stand-in (see
 * `nixosInfectPath`) stages a NixOS conversion that the next boot applies: NixOS os-release,
 * new SSH host keys for those /etc/NIXOS_LUSTRATE does not list (as NixOS after its lustration;
 * pinned anew in `knownHosts`), /etc/NIXOS_LUSTRATE consumed.
 */

const script = path.join(repoRoot, 'scripts', 'sandbox');
const sandboxRoot = '/tmp/nix-infra-sandbox';
const lockDir = path.join(sandboxRoot, 'ids');
export const testIds = { first: 100, count: 100 } as const;

/** Where the nixos-infect stand-in is on every host (fetch it with curl from file://). */
export const nixosInfectPath = '/usr/local/lib/nix-infra-sandbox/nixos-infect/test/nixos-infect';
/** The nixos-infect mutation stand-in on every host (run as `bash <file> --apply`). */
export const mutationPath = '/usr/local/lib/nix-infra-sandbox/nixos-infect/test/mutations/sandbox';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SandboxHost {
  /** Node name as in servers.yaml: node001, node002, ... */
  readonly name: string;
  readonly ip: string;
  /** The host's own writes (its overlay's upper layer), readable from the test. */
  readonly upperDir: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Sandbox {
  readonly id: number;
  readonly stateDir: string;
  /** Private key that logs in as root on every host (ed25519, 0600). */
  readonly keyPath: string;
  /** servers.yaml naming every host with `ip` and `ssh_key` (absolute path). */
  readonly serversYaml: string;
  /** The hosts' public keys in known_hosts format (`<ip> <type> <key>`). */
  readonly knownHosts: string;
  readonly hosts: readonly SandboxHost[];
  /** Every stand-in call on the host so far, oldest first: [tool, ...arguments]. */
  calls(hostName: string): Promise<string[][]>;
  /** Runs `command` on the host with the system ssh client, host key checked. */
  ssh(hostName: string, command: string, options?: { input?: string | Buffer; timeoutMs?: number }): Promise<RunResult>;
  /**
   * Runs argv inside the running host's namespaces and filesystem, not over ssh; also while the
   * host is down between two boots (a reboot in progress kills it like any process of the host).
   */
  exec(hostName: string, argv: readonly string[], input?: string | Buffer): Promise<RunResult>;
  /**
   * Makes a stand-in on one running host exit with `exit` and print `output` instead of its
   * usual output; undefined restores the default. Written through the host's own mount (a file
   * put straight into the upper dir may stay unseen by the mounted overlay).
   */
  setTool(hostName: string, tool: string, result: { exit?: number; output?: string }): Promise<void>;
  /**
   * Kills the host's init and with it every process of the host (sshd, sessions, a reboot in
   * progress); its files stay. It stays down until startHost.
   */
  stopHost(hostName: string): Promise<void>;
  /** Boots a stopped host (a boot like any other: new boot id, staged changes applied). */
  startHost(hostName: string): Promise<void>;
  /**
   * Each host's state as `scripts/sandbox status` sees it: alive (sshd running), rebooting
   * (its init is up, between two boots) or dead (stopped, or never got up).
   */
  status(): Promise<Record<string, 'alive' | 'rebooting' | 'dead'>>;
  /**
   * The host's current boot id, read inside the host (its /proc/sys/kernel/random/boot_id),
   * not over ssh. A UUID, different on every host and new at every boot.
   */
  bootId(hostName: string): Promise<string>;
  /**
   * Waits until the host has booted again since `previous` (one of its boot ids): its boot id
   * is another one and its sshd accepts TCP connections. Resolves with the new boot id; rejects
   * after `timeoutMs` (default 30 s).
   */
  waitForBootIdChange(hostName: string, previous: string, options?: { timeoutMs?: number }): Promise<string>;
  /**
   * Reboots the host the way `reboot` on it would, but without a stand-in call in calls.log,
   * and waits until it is back. Resolves with the new boot id.
   */
  reboot(hostName: string): Promise<string>;
  /**
   * Seconds a rebooting host stays down (its /etc/nix-infra-sandbox/reboot.delay, fractions
   * allowed); undefined restores the default, 1.
   */
  setRebootDelay(hostName: string, seconds: number | undefined): Promise<void>;
  /** The host's /etc/os-release as key-value pairs, quotes removed (read inside the host). */
  osRelease(hostName: string): Promise<Record<string, string>>;
  /** The host's SSH host keys as the host has them now: `<type> <base64>`, sorted. */
  hostKeys(hostName: string): Promise<string[]>;
  /** The host's keys as pinned in `knownHosts` now: `<type> <base64>`, sorted. */
  pinnedHostKeys(hostName: string): Promise<string[]>;
  /**
   * The environment the last run of the nixos-infect or mutation stand-in on the host got
   * (exactly what its caller passed), or undefined if it never ran.
   */
  standinEnv(hostName: string, tool: 'nixos-infect' | 'mutation'): Promise<Record<string, string> | undefined>;
  /** Tears everything down; safe to call twice. Also runs from t.after. */
  down(): Promise<void>;
}

export async function startSandbox(
  t: TestContext,
  options: {
    hosts: number;
    id?: number;
    project?: string;
    /**
     * Keep everything `up --project` writes for an operator: the hosts' keys pinned in
     * ssh/known_hosts and the sandbox's values in .env. Off by default, so tests start from a
     * project that has contacted no host yet (first contact, pinning and refusals stay testable).
     */
    asOperator?: boolean;
  },
): Promise<Sandbox> {
  const lock = await acquireId(options.id);
  const id = lock.id;
  const stateDir = path.join(sandboxRoot, String(id));
  const env: NodeJS.ProcessEnv = { ...process.env, SANDBOX_DIR: stateDir };
  delete env.SANDBOX_ID;
  // --id right after the command: everything after an `exec` host's `--` is its command.
  const sandbox = ([command, ...rest]: string[], input?: string | Buffer, timeoutMs = 60_000) =>
    run(script, [command ?? '', '--id', String(id), ...rest], { env, input, timeoutMs });
  const must = async (args: string[], timeoutMs?: number) => {
    const result = await sandbox(args, undefined, timeoutMs);
    if (result.code !== 0) throw new Error(`scripts/sandbox ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    return result;
  };

  let downPromise: Promise<void> | undefined;
  const down = () =>
    (downPromise ??= (async () => {
      try {
        await must(['down']);
      } finally {
        await lock.release();
      }
    })());
  // Registered before `up`, so that whatever `up` got to make is removed even if it fails.
  t.after(down);

  const upArgs = ['up', String(options.hosts)];
  if (options.project !== undefined) upArgs.push('--project', options.project);
  const operatorFiles = options.project === undefined ? [] : [path.join(options.project, 'ssh', 'known_hosts'), path.join(options.project, '.env')];
  const existedBefore = await Promise.all(operatorFiles.map((file) => stat(file).then(() => true, () => false)));
  await must(upArgs, 180_000);
  if (options.asOperator !== true) {
    for (const [index, file] of operatorFiles.entries()) if (!existedBefore[index]) await rm(file, { force: true });
  }

  const serversYaml = path.join(stateDir, 'servers.yaml');
  const parsed = parse(await readFile(serversYaml, 'utf8')) as { servers: Record<string, { ip: string }> };
  const hosts = Object.entries(parsed.servers).map(([name, entry]) => ({
    name,
    ip: entry.ip,
    upperDir: path.join(stateDir, 'hosts', name, 'upper'),
  }));
  const keyPath = path.join(stateDir, 'ssh', 'sandbox');
  const knownHosts = path.join(stateDir, 'hosts.keys');
  const host = (name: string) => {
    const found = hosts.find((h) => h.name === name);
    if (!found) throw new Error(`sandbox ${id} has no host ${name}`);
    return found;
  };
  /** The boot id from inside the host; unless `required`, undefined while it cannot be read. */
  const readBootId = async (hostName: string, required: boolean): Promise<string | undefined> => {
    const done = await sandbox(['exec', host(hostName).name, '--', 'cat', '/proc/sys/kernel/random/boot_id']);
    const value = done.stdout.trim();
    if (done.code === 0 && uuidPattern.test(value)) return value;
    if (required) throw new Error(`bootId ${hostName}: exit ${done.code}: ${done.stderr.trim()} ${value}`);
    return undefined;
  };

  return {
    id,
    stateDir,
    keyPath,
    serversYaml,
    knownHosts,
    hosts,
    async calls(hostName) {
      const log = path.join(host(hostName).upperDir, 'var', 'log', 'nix-infra-sandbox', 'calls.log');
      const text = await readFile(log, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      return text.split('\n').filter((line) => line !== '').map(parseShellWords);
    },
    ssh(hostName, command, sshOptions = {}) {
      const args = [
        '-F', '/dev/null',
        '-i', keyPath,
        '-o', 'IdentitiesOnly=yes',
        '-o', 'BatchMode=yes',
        '-o', `UserKnownHostsFile=${knownHosts}`,
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'ConnectTimeout=5',
        '-o', 'LogLevel=ERROR',
        `root@${host(hostName).ip}`,
        command,
      ];
      return run('ssh', args, { input: sshOptions.input, timeoutMs: sshOptions.timeoutMs ?? 30_000 });
    },
    exec(hostName, argv, input) {
      return sandbox(['exec', hostName, '--', ...argv], input);
    },
    async setTool(hostName, tool, result) {
      if (!/^[a-z][a-z-]*$/.test(tool)) throw new Error(`not a tool name: ${tool}`);
      const base = `/etc/nix-infra-sandbox/${tool}`;
      const write = async (file: string, content: string | undefined) => {
        const argv =
          content === undefined ? ['rm', '-f', file] : ['sh', '-c', 'mkdir -p /etc/nix-infra-sandbox && cat > "$0"', file];
        const done = await sandbox(['exec', hostName, '--', ...argv], content ?? '');
        if (done.code !== 0) throw new Error(`setTool ${hostName} ${tool}: ${done.stderr.trim()}`);
      };
      await write(`${base}.exit`, result.exit === undefined ? undefined : `${result.exit}\n`);
      await write(`${base}.output`, result.output);
    },
    async stopHost(hostName) {
      await must(['stop-host', host(hostName).name]);
    },
    async startHost(hostName) {
      await must(['start-host', host(hostName).name]);
    },
    async status() {
      const result = await sandbox(['status']);
      const states: Record<string, 'alive' | 'rebooting' | 'dead'> = {};
      for (const line of result.stdout.split('\n')) {
        const [name, , , state] = line.split(' ');
        if (name !== undefined && (state === 'alive' || state === 'rebooting' || state === 'dead')) states[name] = state;
      }
      if (Object.keys(states).length !== hosts.length) throw new Error(`scripts/sandbox status: ${result.stdout}${result.stderr}`);
      return states;
    },
    bootId: (hostName) => readBootId(hostName, true) as Promise<string>,
    async waitForBootIdChange(hostName, previous, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 30_000;
      const deadline = Date.now() + timeoutMs;
      const { ip } = host(hostName);
      let seen: string | undefined;
      for (;;) {
        seen = await readBootId(hostName, false);
        if (seen !== undefined && seen !== previous && (await accepts(ip))) return seen;
        if (Date.now() > deadline) {
          throw new Error(`${hostName} did not boot again within ${timeoutMs} ms (boot id ${seen ?? 'unreadable'}, was ${previous})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async reboot(hostName) {
      await must(['reboot-host', host(hostName).name], 120_000);
      return (await readBootId(hostName, true)) as string;
    },
    async setRebootDelay(hostName, seconds) {
      if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0)) throw new Error(`not a delay: ${seconds}`);
      const file = '/etc/nix-infra-sandbox/reboot.delay';
      const argv = seconds === undefined ? ['rm', '-f', file] : ['sh', '-c', 'mkdir -p /etc/nix-infra-sandbox && cat > "$0"', file];
      const done = await sandbox(['exec', host(hostName).name, '--', ...argv], seconds === undefined ? '' : `${seconds.toFixed(3)}\n`);
      if (done.code !== 0) throw new Error(`setRebootDelay ${hostName}: ${done.stderr.trim()}`);
    },
    async osRelease(hostName) {
      const done = await sandbox(['exec', host(hostName).name, '--', 'cat', '/etc/os-release']);
      if (done.code !== 0) throw new Error(`osRelease ${hostName}: ${done.stderr.trim()}`);
      const fields: Record<string, string> = {};
      for (const line of done.stdout.split('\n')) {
        const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
        if (match?.[1] === undefined || match[2] === undefined) continue;
        const words = parseShellWords(match[2]);
        fields[match[1]] = words.join(' ');
      }
      return fields;
    },
    async hostKeys(hostName) {
      const done = await sandbox(['exec', host(hostName).name, '--', 'sh', '-c', 'cat /etc/ssh/ssh_host_*_key.pub']);
      if (done.code !== 0) throw new Error(`hostKeys ${hostName}: ${done.stderr.trim()}`);
      return keyLines(done.stdout.split('\n').map((line) => line.split(' ')));
    },
    async pinnedHostKeys(hostName) {
      const { ip } = host(hostName);
      const lines = (await readFile(knownHosts, 'utf8')).split('\n').map((line) => line.split(' '));
      return keyLines(lines.filter((words) => words[0] === ip).map((words) => words.slice(1)));
    },
    async standinEnv(hostName, tool) {
      const file = path.join(host(hostName).upperDir, 'var', 'log', 'nix-infra-sandbox', `${tool}.env`);
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (text === undefined) return undefined;
      const env: Record<string, string> = {};
      for (const line of text.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return env;
    },
    down,
  };
}

/**
 * Splits one calls.log line, which the stand-ins write with bash's `printf '%q '`, back into
 * words: plain text, backslash escapes, '...' and $'...' (with octal and hex bytes, so any
 * argument, including a newline or non-UTF-8-locale text, round-trips).
 */
export function parseShellWords(line: string): string[] {
  const words: string[] = [];
  let bytes: number[] = [];
  let inWord = false;
  const text = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  let i = 0;
  while (i < line.length) {
    const c = String.fromCodePoint(line.codePointAt(i) ?? 0);
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(Buffer.from(bytes).toString('utf8'));
      bytes = [];
      inWord = false;
      i += 1;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      const next = String.fromCodePoint(line.codePointAt(i + 1) ?? 0);
      if (i + 1 >= line.length) throw new Error(`trailing backslash in: ${line}`);
      text(next);
      i += 1 + next.length;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed quote in: ${line}`);
      text(line.slice(i + 1, close));
      i = close + 1;
    } else if (c === '$' && line[i + 1] === "'") {
      i = ansiC(line, i + 2, bytes);
    } else if (c === '"') {
      i += 1;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && '$`"\\'.includes(line[i + 1] ?? '')) i += 1;
        text(line[i] ?? '');
        i += 1;
      }
      if (i >= line.length) throw new Error(`unclosed quote in: ${line}`);
      i += 1;
    } else {
      text(c);
      i += c.length;
    }
  }
  if (inWord) words.push(Buffer.from(bytes).toString('utf8'));
  return words;
}

/** Reads a $'...' body starting at `start` into `bytes`; returns the index after the quote. */
function ansiC(line: string, start: number, bytes: number[]): number {
  const simple: Record<string, number> = { a: 7, b: 8, e: 27, E: 27, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
  let i = start;
  const digits = (pattern: RegExp, max: number) => {
    let s = '';
    while (s.length < max && pattern.test(line[i] ?? '')) s += line[i++];
    return s;
  };
  while (i < line.length) {
    const c = line[i] ?? '';
    if (c === "'") return i + 1;
    if (c !== '\\') {
      const ch = String.fromCodePoint(line.codePointAt(i) ?? 0);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
      continue;
    }
    const e = line[i + 1] ?? '';
    i += 2;
    const known = simple[e];
    if (known !== undefined) bytes.push(known);
    else if (/[0-7]/.test(e)) {
      i -= 1;
      bytes.push(parseInt(digits(/[0-7]/, 3), 8) & 0xff);
    } else if (e === 'x') {
      const hex = digits(/[0-9a-fA-F]/, 2);
      if (hex === '') bytes.push(92, 120);
      else bytes.push(parseInt(hex, 16));
    } else if (e === 'u' || e === 'U') {
      const hex = digits(/[0-9a-fA-F]/, e === 'u' ? 4 : 8);
      if (hex === '') bytes.push(92, e.charCodeAt(0));
      else bytes.push(...Buffer.from(String.fromCodePoint(parseInt(hex, 16)), 'utf8'));
    } else if (e === 'c') {
      bytes.push((line.charCodeAt(i) & 0x1f) >>> 0);
      i += 1;
    } else {
      bytes.push(92, ...Buffer.from(e, 'utf8'));
    }
  }
  throw new Error(`unclosed $'...' in: ${line}`);
}

/** `<type> <base64>` of each line's first two words, sorted; lines without both are dropped. */
function keyLines(lines: readonly (readonly string[])[]): string[] {
  return lines
    .filter((words) => words[0] !== undefined && words[0] !== '' && words[1] !== undefined)
    .map((words) => `${words[0]} ${words[1]}`)
    .sort();
}

/** Whether something accepts a TCP connection on ip:22 (a sandbox host's sshd). */
function accepts(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ip, port: 22, timeout: 2000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Runs a program with optional stdin; never rejects on a non-zero exit, only on a time-out. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer | undefined; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')}: no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.on('error', () => {}); // a command that never reads stdin closes it early
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

// --- id allocation -------------------------------------------------------------------------

/** "<pid> <start time in clock ticks>": a pid alone may be reused by a later process. */
async function processTag(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined;
  return `${pid} ${fields[19]}`; // field 22 of stat, counting from the state (field 3)
}

async function holderAlive(content: string): Promise<boolean> {
  const pid = Number(content.split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return (await processTag(pid)) === content.trim();
}

interface IdLock {
  readonly id: number;
  release(): Promise<void>;
}

async function lockId(id: number, me: string): Promise<IdLock | undefined> {
  const file = path.join(lockDir, String(id));
  if (!(await tryLock(file, me))) return undefined;
  return {
    id,
    async release() {
      const content = await readFile(file, 'utf8').catch(() => '');
      if (content.trim() === me) await rm(file, { force: true });
    },
  };
}

async function acquireId(requested?: number): Promise<IdLock> {
  await mkdir(lockDir, { recursive: true });
  const me = await processTag(process.pid);
  if (me === undefined) throw new Error('cannot read /proc/self/stat');
  await reapAbandoned(me);
  const candidates =
    requested !== undefined
      ? [requested]
      : Array.from({ length: testIds.count }, (_, n) => testIds.first + ((process.pid + n) % testIds.count));
  for (const id of candidates) {
    const lock = await lockId(id, me);
    if (lock) return lock;
  }
  throw new Error(
    requested !== undefined
      ? `sandbox id ${requested} is held by a running process (${lockDir}/${requested})`
      : `all sandbox ids ${testIds.first}-${testIds.first + testIds.count - 1} are in use`,
  );
}

/**
 * A test process killed outright (SIGKILL, a CI time-out) never ran its t.after: its hosts are
 * still up under an id whose lock names a dead process. Take each such id and tear it down.
 */
async function reapAbandoned(me: string): Promise<void> {
  for (const name of await readdir(lockDir).catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const holder = (await readFile(path.join(lockDir, name), 'utf8').catch(() => '')).trim();
    if (holder === '' || (await holderAlive(holder))) continue;
    const lock = await lockId(Number(name), me);
    if (!lock) continue;
    const env: NodeJS.ProcessEnv = { ...process.env, SANDBOX_DIR: path.join(sandboxRoot, name) };
    delete env.SANDBOX_ID;
    const result = await run(script, ['down', '--id', name], { env, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`cleaning up abandoned sandbox ${name}: ${result.stderr.trim()}`);
    await lock.release();
  }
}

async function tryLock(file: string, me: string): Promise<boolean> {
  try {
    await writeFile(file, `${me}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (holder === '' || (await holderAlive(holder))) return false;
  // The holder died. Take its id over under a mutex (mkdir is atomic), re-checking that the
  // lock is still the dead one, so two processes cannot both take it.
  const mutex = `${file}.takeover`;
  try {
    await mkdir(mutex);
  } catch {
    const since = await stat(mutex).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (since > 60_000) await rmdir(mutex).catch(() => {});
    return false;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => '')).trim() !== holder) return false;
    await writeFile(file, `${me}\n`);
    return true;
  } finally {
    await rmdir(mutex).catch(() => {});
  }
}

/** For callers that only need to know whether the CLI could run sandboxes here. */
export function canRunSandbox(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0;
}

/** Whether the host's sshd accepts a TCP connection: true, or the error code (e.g. ECONNREFUSED). */
export function connects(ip: string): Promise<boolean | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ip, port: 22, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
