import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Ssh2Connector } from '../src/adapters/ssh/ssh2-connector.js';
import type { RemoteHost } from '../src/ports/remote-host.js';
import { applyCommand, fileSetPayload } from '../src/remote/file-set.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

// Deploys on sandbox hosts, about cost and failure rather than content (deploy-e2e covers what
// lands where): scrypt runs once per secret, a transfer cut off mid-stream leaves the old files
// and no part files, an unreachable host fails alone, two deploys at once never mix.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Preloaded into the CLI: counts crypto.scrypt calls, split by salt (the manifest key has a fixed
 * text salt; every v1 secret file its own random one), and writes the counts at exit.
 */
const COUNTER = `
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const counts = { store: 0, manifest: 0 };
const original = crypto.scrypt;
crypto.scrypt = function (password, salt, ...rest) {
  if (salt === 'nix-infra/secrets-sync/manifest-key/v1') counts.manifest += 1; else counts.store += 1;
  return original.call(this, password, salt, ...rest);
};
syncBuiltinESMExports();
process.on('exit', () => writeFileSync(process.env.SCRYPT_COUNTS, JSON.stringify(counts)));
`;

/** Everything under /etc/nixos on the host that a transfer may leave behind by mistake. */
async function leftovers(sandbox: Sandbox, host: string): Promise<string> {
  const found = await sandbox.exec(host, ['find', '/etc/nixos', '(', '-name', '.nix-infra-stage.*', '-o', '-name', '*.tmp', ')', '-print']);
  return found.stdout.trim();
}

test('deploy transfers on sandbox hosts', { skip: canRunSandbox() ? false : 'sandbox hosts need root', timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t, 'nix-infra-transfer-');
  const sandbox = await startSandbox(t, { hosts: 3, project: dir });
  const env = { SSH_KEY: 'sandbox', SECRETS_PASS: 'transfer-e2e-pass' };
  const names = sandbox.hosts.map((h) => h.name);
  assert.equal((await runCli(['init', '-d', dir, '--batch', '--no-cert-auth', '--template', 'fleet'], { env })).code, 0);
  for (const [name, value] of [['db.password', 'pw-1'], ['api.token', 'tok-1'], ['unused', 'never-read']] as const) {
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', name, '--batch'], { env, input: value })).code, 0);
  }
  await mkdir(path.join(dir, 'nodes'), { recursive: true });
  for (const name of names) {
    await writeFile(path.join(dir, 'nodes', `${name}.nix`), '{ ... }: { x = "[%%secrets/db.password%%] [%%secrets/api.token%%]"; }\n');
  }
  await mkdir(path.join(dir, 'app_modules', 'web'), { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(path.join(dir, 'app_modules', 'web', `m${i}.nix`), `{ ... }: { } # ${i}\n`);
  const deploy = (extra: string[] = [], options: { env?: Record<string, string> } = {}) =>
    runCli(['fleet', 'deploy-apps', '-d', dir, '--target', names.join(' '), '--no-rebuild', '--batch', '--json', '--connect-timeout', '5', ...extra], {
      env: { ...env, ...options.env },
    });
  const report = (stdout: string) => JSON.parse(stdout) as { hosts: { host: string; ok: boolean; error?: string; filesChanged?: number }[] };

  await t.test('each used secret is decrypted once per run (one scrypt each), whatever the number of hosts', async () => {
    const counter = path.join(dir, '..', 'count-scrypt.mjs');
    const counts = path.join(dir, '..', 'scrypt-counts.json');
    await writeFile(counter, COUNTER);
    const first = await deploy([], { env: { NODE_OPTIONS: `--import=${counter}`, SCRYPT_COUNTS: counts } });
    assert.equal(first.code, 0, first.stderr);
    // 3 hosts x 2 secrets: 2 store derivations (not 6), the unused secret never, 1 manifest key.
    assert.deepEqual(JSON.parse(await readFile(counts, 'utf8')), { store: 2, manifest: 1 });
  });

  const connector = new Ssh2Connector({
    knownHostsFile: path.join(dir, 'ssh', 'known_hosts'),
    connectTimeoutMs: 20_000,
    maxHandshakes: 4,
    acceptChangedKeyFor: new Set(),
    agentSocket: undefined,
  });
  t.after(() => connector.closeAll());
  const connect = (target: Sandbox['hosts'][number]): Promise<RemoteHost> =>
    connector.connect({ name: target.name, address: target.ip, port: 22, username: 'root', keyPath: sandbox.keyPath });

  await t.test('SFTP errors name the path and the operation', async () => {
    const files = await (await connect(sandbox.hosts[1] as Sandbox['hosts'][number])).files();
    await assert.rejects(files.remove('/etc/nixos/app_modules'), /cannot remove \/etc\/nixos\/app_modules: /);
    await assert.rejects(files.writeFile('/etc/nixos/app_modules', Buffer.from('x'), 0o644), /cannot rename \/etc\/nixos\/\..*\.tmp to \/etc\/nixos\/app_modules: /);
  });

  await t.test('a transfer cut off mid-stream leaves the previous files and no part files', async () => {
    const target = sandbox.hosts[0] as Sandbox['hosts'][number];
    const host = await connect(target);
    const before = await sandbox.exec(target.name, ['sha256sum', '/etc/nixos/app_modules/web/m0.nix', `/etc/nixos/${target.name}.nix`]);
    assert.equal(before.code, 0, before.stderr);
    // A new version of two files, large enough that the stream is still open when we cut it.
    const big = Buffer.alloc(4 * 1024 * 1024, 'x');
    const payload = fileSetPayload(
      '/etc/nixos',
      [
        { remotePath: '/etc/nixos/app_modules/web/m0.nix', content: Buffer.from('changed\n'), mode: 0o644 },
        { remotePath: '/etc/nixos/app_modules/web/big.nix', content: big, mode: 0o644 },
      ],
      [],
      new Map(),
      '/etc/nixos/app_modules',
    );
    const half = payload.archive.subarray(0, payload.archive.length / 2);
    const stdin = new Readable({ read() {} });
    stdin.push(half);
    const running = host.exec(applyCommand('/etc/nixos', true), { stdin }).catch((err: Error) => err);
    // The stage exists (the node is unpacking), then the connection dies.
    await waitFor('the stage folder', async () => (await leftovers(sandbox, target.name)).includes('.nix-infra-stage.'));
    host.close();
    await running;
    // The script holds the node's lock until it has cleaned up: take it, then look.
    const locked = await sandbox.exec(target.name, ['flock', '/etc/nixos/.nix-infra-files.lock', 'true']);
    assert.equal(locked.code, 0, locked.stderr);
    assert.equal(await leftovers(sandbox, target.name), '');
    const after = await sandbox.exec(target.name, ['sha256sum', '/etc/nixos/app_modules/web/m0.nix', `/etc/nixos/${target.name}.nix`]);
    assert.equal(after.stdout, before.stdout, 'the previous files are intact');
    assert.equal((await sandbox.exec(target.name, ['test', '-e', '/etc/nixos/app_modules/web/big.nix'])).code, 1, 'nothing of the new set landed');
  });

  await t.test('a stage left by a killed run is removed by the next transfer', async () => {
    const target = sandbox.hosts[0] as Sandbox['hosts'][number];
    assert.equal((await sandbox.exec(target.name, ['mkdir', '-p', '/etc/nixos/.nix-infra-stage.killed/files'])).code, 0);
    await writeFile(path.join(dir, 'app_modules', 'web', 'm0.nix'), '{ ... }: { } # changed\n');
    const result = await deploy();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await leftovers(sandbox, target.name), '');
  });

  await t.test('an unreachable host fails alone, with its cause; --all-or-nothing deploys none', async () => {
    const down = sandbox.hosts[2] as Sandbox['hosts'][number];
    await sandbox.stopHost(down.name);
    await writeFile(path.join(dir, 'app_modules', 'web', 'm1.nix'), '{ ... }: { } # changed too\n');
    const strict = await deploy(['--all-or-nothing']);
    assert.equal(strict.code, 1, strict.stderr);
    assert.ok(report(strict.stdout).hosts.every((h) => !h.ok), strict.stdout);
    const m1 = await sandbox.exec(names[0] as string, ['cat', '/etc/nixos/app_modules/web/m1.nix']);
    assert.equal(m1.stdout, '{ ... }: { } # 1\n', 'all-or-nothing: no host changed');

    const result = await deploy();
    assert.equal(result.code, 1, result.stderr);
    const hosts = report(result.stdout).hosts;
    assert.deepEqual(hosts.map((h) => [h.host, h.ok]), [[names[0], true], [names[1], true], [down.name, false]]);
    assert.match(hosts[2]?.error ?? '', /cannot connect to .*connection refused/);
    for (const name of names.slice(0, 2)) {
      assert.equal((await sandbox.exec(name, ['cat', '/etc/nixos/app_modules/web/m1.nix'])).stdout, '{ ... }: { } # changed too\n');
    }

    // An input error still stops everything before any host changes, the unreachable one aside.
    await writeFile(path.join(dir, 'app_modules', 'web', 'm1.nix'), '{ ... }: { } # not deployed\n');
    // (A typo in a placeholder key; a node that does not exist yet would only be a warning.)
    await writeFile(path.join(dir, 'nodes', `${names[1]}.nix`), '{ ... }: { x = "[%%localhost.ipv5%%]"; }\n');
    const broken = await deploy();
    assert.equal(broken.code, 2, broken.stderr);
    // Found by the preflight, before any host is reached.
    assert.match(broken.stderr, new RegExp(`nodes/${names[1]}\\.nix:1: .*unknown placeholder \\[%%localhost\\.ipv5%%\\]`));
    assert.equal((await sandbox.exec(names[0] as string, ['cat', '/etc/nixos/app_modules/web/m1.nix'])).stdout, '{ ... }: { } # changed too\n');
    await writeFile(path.join(dir, 'nodes', `${names[1]}.nix`), '{ ... }: { }\n');
    await sandbox.startHost(down.name);
  });

  await t.test('two projects deploying to one node at once: the node ends with one whole set, never a mix', async () => {
    // A second project: the same servers and keys, its own app_modules.
    const other = await tempDir(t, 'nix-infra-transfer-b-');
    await cp(dir, other, { recursive: true, filter: (from) => !from.startsWith(path.join(dir, 'app_modules')) });
    const write = async (root: string, tag: string) => {
      await mkdir(path.join(root, 'app_modules', 'web'), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(path.join(root, 'app_modules', 'web', `m${i}.nix`), `{ ... }: { } # ${tag} ${i}\n`);
    };
    await rm(path.join(dir, 'app_modules'), { recursive: true, force: true });
    await write(dir, 'A');
    await write(other, 'B');
    const target = names[0] as string;
    const run = (root: string) => runCli(['fleet', 'deploy-apps', '-d', root, '--target', target, '--no-rebuild', '--batch'], { env });
    const results = await Promise.all([run(dir), run(other)]);
    assert.ok(results.some((r) => r.code === 0), results.map((r) => r.stderr).join('\n'));
    for (const r of results.filter((x) => x.code !== 0)) {
      // The loser replaced nothing: the deploy lock turned it away (exit 75, naming the holder), or,
      // had it got past the lock, the file set's own check would name the folder that changed.
      assert.match(r.stderr, /deploy lock held by .*nothing was changed|\/etc\/nixos: files changed on the node since this deploy read them/);
    }
    const tags = await sandbox.exec(target, ['sh', '-c', 'cat /etc/nixos/app_modules/web/*.nix | sed "s/.*# \\([AB]\\) .*/\\1/" | sort -u']);
    assert.equal(tags.stdout.trim().split('\n').length, 1, `one project's set only: ${tags.stdout}`);
    assert.equal(await leftovers(sandbox, target), '');
  });
});
