import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import { ManifestKey, syncSecrets, type SecretsSyncRequest } from '../src/core/deploy/secrets-sync.js';
import { HostStepFailed } from '../src/core/remote/fanout.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import type { ExecOptions, ExecResult, RemoteCommand, RemoteHost } from '../src/ports/remote-host.js';
import {
  encryptCommand,
  formatManifest,
  parseManifest,
  parseState,
  removeCommand,
  SCRIPT_NAME,
  stateCommand,
  writeManifestCommand,
  writePreBuildCommand,
} from '../src/remote/secrets.js';
import { commandLine } from '../src/remote/shell-quote.js';
import { tempDir } from './support/repo.js';

function argvOf(command: RemoteCommand): readonly string[] {
  assert.ok('argv' in command, 'an argv command');
  return command.argv;
}

const ENCRYPT = [
  'set -eu',
  'umask 077',
  'tmp="$1/.nix-infra-tmp.$2.$$"',
  `trap 'rm -f -- "$tmp"' EXIT`,
  `trap 'exit 129' HUP INT TERM`,
  'systemd-creds encrypt --name="$2" - "$tmp"',
  'chmod 0600 -- "$tmp"',
  'mv -f -- "$tmp" "$1/$2"',
].join('\n');

const WRITE = [
  'set -eu',
  'umask 077',
  '[ -d "$1" ] || mkdir -p -m 0700 -- "$1"',
  'tmp="$1/.nix-infra-tmp.$2.$$"',
  `trap 'rm -f -- "$tmp"' EXIT`,
  `trap 'exit 129' HUP INT TERM`,
  'cat > "$tmp"',
  'chmod "$3" -- "$tmp"',
  'mv -f -- "$tmp" "$1/$2"',
].join('\n');

const STATE = [
  'set -eu',
  'umask 077',
  'if [ "$3" = create ]; then',
  '  mkdir -p -- "$1"',
  '  chmod 0700 -- "$1"',
  'fi',
  'if [ -d "$1" ]; then',
  `  find "$1" -mindepth 1 -maxdepth 1 -type f -name '.nix-infra-tmp.*' -mmin +60 -exec rm -f -- {} +`,
  `  find "$1" -mindepth 1 -maxdepth 1 -printf '%y %f\\0'`,
  'fi',
  `printf '\\0'`,
  'if [ -f "$1/$2" ]; then cat -- "$1/$2"; fi',
].join('\n');

describe('secrets remote builders', () => {
  it('build fixed scripts whose only inputs are positional parameters', () => {
    assert.equal(SCRIPT_NAME, 'nix-infra-secrets');
    assert.deepEqual(argvOf(encryptCommand('db.password')), ['sh', '-c', ENCRYPT, 'nix-infra-secrets', '/root/secrets', 'db.password']);
    assert.deepEqual(argvOf(writePreBuildCommand('github-netrc')), ['sh', '-c', WRITE, 'nix-infra-secrets', '/run/keys', 'github-netrc', '0400']);
    assert.deepEqual(argvOf(writeManifestCommand('/root/secrets')), ['sh', '-c', WRITE, 'nix-infra-secrets', '/root/secrets', '.nix-infra-hashes', '0600']);
    assert.deepEqual(argvOf(stateCommand('/root/secrets', true)), ['sh', '-c', STATE, 'nix-infra-secrets', '/root/secrets', '.nix-infra-hashes', 'create']);
    assert.deepEqual(argvOf(stateCommand('/run/keys', false)), ['sh', '-c', STATE, 'nix-infra-secrets', '/run/keys', '.nix-infra-hashes', 'read']);
    assert.deepEqual(argvOf(removeCommand('/root/secrets', ['a', 'b.c'])), [
      'sh',
      '-c',
      ['set -eu', 'dir=$1', 'shift', 'for name do', '  rm -f -- "$dir/$name"', 'done'].join('\n'),
      'nix-infra-secrets',
      '/root/secrets',
      'a',
      'b.c',
    ]);
  });

  it('refuse names that could leave the directory, and odd directories', () => {
    for (const bad of ['../x', 'a/b', '..', 'a..b', '.hidden', '', 'sp ace', 'a;b', 'x\ny']) {
      assert.throws(() => encryptCommand(bad), UserError, bad);
      assert.throws(() => writePreBuildCommand(bad), UserError, bad);
      assert.throws(() => removeCommand('/root/secrets', ['ok', bad]), UserError, bad);
    }
    assert.throws(() => stateCommand('/root/../etc', true));
    assert.throws(() => stateCommand('relative', true));
    assert.throws(() => encryptCommand('x', '/root/$(id)'));
    assert.throws(() => removeCommand('/root/secrets', []));
  });

  it('parse the listing and the manifest', () => {
    const out = Buffer.concat([Buffer.from('f a\0l b.c\0d sub dir\0f .nix-infra-hashes\0\0'), Buffer.from(formatManifest(new Map([['b.c', 'b'.repeat(64)], ['a', 'a'.repeat(64)]])))]);
    const state = parseState(out);
    assert.deepEqual(state.entries, [
      { type: 'f', name: 'a' },
      { type: 'l', name: 'b.c' },
      { type: 'd', name: 'sub dir' },
      { type: 'f', name: '.nix-infra-hashes' },
    ]);
    assert.equal(state.manifest, `nix-infra-hashes v1\na ${'a'.repeat(64)}\nb.c ${'b'.repeat(64)}\n`);
    assert.deepEqual([...parseManifest(state.manifest)], [['a', 'a'.repeat(64)], ['b.c', 'b'.repeat(64)]]);
    assert.deepEqual(parseState(Buffer.from('\0')), { entries: [], manifest: '' });
    assert.throws(() => parseState(Buffer.from('f a')));
    // Another version, or lines that do not parse, count as unknown: those secrets are sent again.
    assert.equal(parseManifest(`nix-infra-hashes v2\na ${'a'.repeat(64)}\n`).size, 0);
    assert.deepEqual([...parseManifest(`nix-infra-hashes v1\n../x ${'a'.repeat(64)}\nb short\nc ${'c'.repeat(64)} extra\nd ${'d'.repeat(64)}\n`).keys()], ['d']);
  });
});

describe('manifest key', () => {
  it('is keyed per node, per name and per use, and never prints itself', async () => {
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw-1'));
    const other = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw-2'));
    const v = new SecretValue('x', 'hunter2');
    const h = key.hash('node001', 'credential', 'x', v);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(key.hash('node001', 'credential', 'x', new SecretValue('x', 'hunter2')), h, 'deterministic');
    const variants = [
      key.hash('node002', 'credential', 'x', v),
      key.hash('node001', 'pre-build', 'x', v),
      key.hash('node001', 'credential', 'y', v),
      key.hash('node001', 'credential', 'x', new SecretValue('x', 'hunter3')),
      other.hash('node001', 'credential', 'x', v),
    ];
    assert.equal(new Set([h, ...variants]).size, 6);
    assert.equal(`${String(key)} ${JSON.stringify({ key })} ${inspect(key)}`, '[REDACTED:manifest-key] {"key":"[REDACTED:manifest-key]"} [REDACTED:manifest-key]');
    await assert.rejects(ManifestKey.derive(undefined), UserError);
    await assert.rejects(ManifestKey.derive(new SecretValue('SECRETS_PASS', '')), UserError);
  });
});

/**
 * A "node" whose file system is a temp folder: every command runs through the local sh exactly
 * as the SSH adapter would send it (one command line, each argv element quoted once), with the
 * directory argument moved under the folder and a stand-in systemd-creds on PATH that writes
 * `CRED <name> <base64 of stdin>` (or fails for the name in FAIL_NAME).
 */
async function fakeNode(t: TestContext) {
  const root = await tempDir(t, 'nix-infra-secrets-sync-');
  const bin = path.join(root, 'bin');
  await mkdir(bin);
  const creds = path.join(bin, 'systemd-creds');
  await writeFile(
    creds,
    [
      '#!/bin/sh',
      'set -eu',
      '[ "$1" = encrypt ] || exit 2',
      'name=${2#--name=}',
      '[ "$3" = - ] || exit 2',
      'data=$(base64 -w0)',
      'if [ "$name" = "${FAIL_NAME:-}" ]; then printf partial > "$4"; echo "stand-in: refusing $name" >&2; exit 1; fi',
      'printf "CRED %s %s" "$name" "$data" > "$4"',
      '',
    ].join('\n'),
  );
  await chmod(creds, 0o755);
  const execs: Array<{ argv: readonly string[]; stdin: boolean }> = [];
  let failName = '';
  const host: RemoteHost = {
    target: { name: 'node001', address: '10.0.0.1', port: 22, username: 'root', keyPath: '/k' },
    async exec(command: RemoteCommand, options: ExecOptions = {}): Promise<ExecResult> {
      const argv = argvOf(command);
      execs.push({ argv, stdin: options.stdin !== undefined });
      assert.equal(argv[0], 'sh');
      const moved = argv.map((arg, i) => (i === 4 ? path.join(root, arg) : arg));
      const stdin = options.stdin instanceof SecretValue ? options.stdin.reveal() : Buffer.isBuffer(options.stdin) ? options.stdin : Buffer.alloc(0);
      return new Promise((resolve, reject) => {
        const child = spawn('sh', ['-c', commandLine(moved)], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FAIL_NAME: failName } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        child.on('error', reject);
        child.stdin.on('error', () => {}); // a command that never reads stdin closes it early
        child.on('close', (code) => resolve({ exitCode: code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
        child.stdin.end(stdin);
      });
    },
    files: () => Promise.reject(new Error('not used')),
    forward: () => Promise.reject(new Error('not used')),
    shell: () => Promise.reject(new Error('not used')),
    closed: new Promise(() => {}),
    close: () => {},
  };
  const secretsDir = path.join(root, 'root', 'secrets');
  const keysDir = path.join(root, 'run', 'keys');
  return {
    root,
    host,
    execs,
    secretsDir,
    keysDir,
    failOn(name: string) {
      failName = name;
    },
    /** The value each credential holds, decoded from the stand-in's format. */
    async credentials(): Promise<Record<string, string>> {
      const found: Record<string, string> = {};
      for (const name of await readdir(secretsDir)) {
        if (name.startsWith('.')) continue;
        const [tag, embedded, data] = (await readFile(path.join(secretsDir, name), 'utf8')).split(' ');
        assert.equal(tag, 'CRED');
        assert.equal(embedded, name, 'the embedded name is the final name');
        found[name] = Buffer.from(data ?? '', 'base64').toString('utf8');
      }
      return found;
    },
    async mode(file: string): Promise<number> {
      return (await lstat(file)).mode & 0o777;
    },
  };
}

function request(key: ManifestKey, values: Record<string, string>, secrets: string[], preBuild: string[] = []): SecretsSyncRequest & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    secrets,
    preBuild,
    key,
    async valueFor(name, use) {
      asked.push(`${use}:${name}`);
      const value = values[name];
      if (value === undefined) throw new UserError(`secret "${name}" not found`);
      return new SecretValue(name, use === 'pre-build' ? `${value}#pre` : value);
    },
  };
}

describe('syncSecrets against a local file system', () => {
  it('sends new and changed secrets only, removes unreferenced ones, keeps a manifest of hashes', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    const values: Record<string, string> = { a: 'alpha', 'b.c': "it's \"quoted\"\nand $(multi) `line`\n", d: 'delta' };

    const first = await syncSecrets(node.host, request(key, values, ['d', 'a', 'b.c', 'a']));
    assert.deepEqual(first, { sent: ['a', 'b.c', 'd'], unchanged: [], removed: [], preBuild: { sent: [], unchanged: [], removed: [] } });
    assert.deepEqual(await node.credentials(), values);
    assert.equal(await node.mode(node.secretsDir), 0o700);
    for (const name of ['a', 'b.c', 'd', '.nix-infra-hashes']) assert.equal(await node.mode(path.join(node.secretsDir, name)), 0o600, name);
    const manifest = await readFile(path.join(node.secretsDir, '.nix-infra-hashes'), 'utf8');
    assert.deepEqual([...parseManifest(manifest).keys()], ['a', 'b.c', 'd']);
    for (const value of Object.values(values)) assert.ok(!manifest.includes(value));
    assert.equal(parseManifest(manifest).get('a'), key.hash('node001', 'credential', 'a', new SecretValue('a', 'alpha')));
    await assert.rejects(lstat(node.keysDir), 'no pre-build secrets: /run/keys is not touched');
    for (const e of node.execs) for (const arg of e.argv) for (const value of Object.values(values)) assert.ok(!arg.includes(value), 'a value in argv');

    node.execs.length = 0;
    const again = await syncSecrets(node.host, request(key, values, ['a', 'b.c', 'd']));
    assert.deepEqual(again, { sent: [], unchanged: ['a', 'b.c', 'd'], removed: [], preBuild: { sent: [], unchanged: [], removed: [] } });
    assert.equal(node.execs.length, 2, 'only the two read-only state commands');
    assert.ok(node.execs.every((e) => !e.stdin));

    node.execs.length = 0;
    values.a = 'alpha-2';
    const changed = await syncSecrets(node.host, request(key, values, ['a', 'b.c']));
    assert.deepEqual(changed, { sent: ['a'], unchanged: ['b.c'], removed: ['d'], preBuild: { sent: [], unchanged: [], removed: [] } });
    assert.deepEqual(await node.credentials(), { a: 'alpha-2', 'b.c': values['b.c'] });
    assert.deepEqual([...parseManifest(await readFile(path.join(node.secretsDir, '.nix-infra-hashes'), 'utf8')).keys()], ['a', 'b.c']);
    assert.deepEqual(
      (await readdir(node.secretsDir)).filter((f) => f.startsWith('.nix-infra-tmp')),
      [],
      'no temporary files left',
    );
  });

  it('resends a secret whose file is gone, and one that a foreign tool left without a hash', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    await mkdir(node.secretsDir, { recursive: true });
    await writeFile(path.join(node.secretsDir, 'b'), 'deployed by the Dart tool');
    await syncSecrets(node.host, request(key, { a: '1', b: '2' }, ['a']));
    assert.deepEqual(await node.credentials(), { a: '1' }, 'the unreferenced upstream file is removed');
    const result = await syncSecrets(node.host, request(key, { a: '1', b: '2' }, ['a', 'b']));
    assert.deepEqual(result.sent, ['b']);
    await import('node:fs/promises').then((fs) => fs.rm(path.join(node.secretsDir, 'a')));
    assert.deepEqual((await syncSecrets(node.host, request(key, { a: '1', b: '2' }, ['a', 'b']))).sent, ['a']);
    assert.deepEqual(await node.credentials(), { a: '1', b: '2' });
  });

  it('removes only secret-named files and links in /root/secrets, never what a link points to', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    const outside = path.join(node.root, 'outside');
    await writeFile(outside, 'keep me');
    await mkdir(path.join(node.secretsDir, 'a-dir'), { recursive: true });
    await symlink(outside, path.join(node.secretsDir, 'link'));
    await writeFile(path.join(node.secretsDir, 'odd name'), 'x');
    await writeFile(path.join(node.secretsDir, '.dotfile'), 'x');
    const result = await syncSecrets(node.host, request(key, { a: '1' }, ['a']));
    assert.deepEqual(result.removed, ['link']);
    assert.equal(await readFile(outside, 'utf8'), 'keep me');
    assert.deepEqual((await readdir(node.secretsDir)).sort(), ['.dotfile', '.nix-infra-hashes', 'a', 'a-dir', 'odd name']);
  });

  it('refuses a bad name, or a value it cannot get, before running anything on the node', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    for (const [secrets, preBuild] of [[['ok', '../etc/passwd'], []], [['ok'], ['a/b']], [['..'], []]] as const) {
      const req = request(key, { ok: '1' }, [...secrets], [...preBuild]);
      await assert.rejects(syncSecrets(node.host, req), UserError);
      assert.deepEqual(req.asked, [], 'no value was even read');
    }
    await assert.rejects(syncSecrets(node.host, request(key, { ok: '1' }, ['ok', 'missing'])), /secret "missing" not found/);
    assert.deepEqual(node.execs, []);
  });

  it('a failed encrypt leaves the old credential, no partial file, and a manifest that forces a resend', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    await syncSecrets(node.host, request(key, { a: 'old-a', b: 'old-b' }, ['a', 'b']));
    node.failOn('a');
    const failed = syncSecrets(node.host, request(key, { a: 'new-a', b: 'old-b' }, ['a', 'b']));
    await assert.rejects(failed, (err: unknown) => {
      assert.ok(err instanceof HostStepFailed);
      assert.equal(err.message, 'cannot write secret a to /root/secrets (exit 1)');
      assert.deepEqual(err.details, ['stand-in: refusing a']);
      return true;
    });
    assert.deepEqual(await node.credentials(), { a: 'old-a', b: 'old-b' });
    assert.deepEqual((await readdir(node.secretsDir)).filter((f) => f.startsWith('.nix-infra-tmp')), []);
    // The old value is still on the node but its hash was dropped first: going back to it resends.
    node.failOn('');
    const back = await syncSecrets(node.host, request(key, { a: 'old-a', b: 'old-b' }, ['a', 'b']));
    assert.deepEqual([back.sent, back.unchanged], [['a'], ['b']]);
  });

  it('pre-build secrets: plaintext 0400 in /run/keys (an existing folder keeps its mode) and a credential too; removes only its own keys', async (t) => {
    const node = await fakeNode(t);
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', 'pw'));
    // NixOS makes /run/keys 0750 root:keys for services in the keys group; it must stay so.
    await mkdir(node.keysDir, { recursive: true, mode: 0o750 });
    await chmod(node.keysDir, 0o750);
    await writeFile(path.join(node.keysDir, 'other-tool-key'), 'not ours');
    const values = { netrc: 'machine example.com login x password y\n', app: 'v' };
    const req = request(key, values, ['app'], ['netrc']);
    const first = await syncSecrets(node.host, req);
    assert.deepEqual(first, { sent: ['app', 'netrc'], unchanged: [], removed: [], preBuild: { sent: ['netrc'], unchanged: [], removed: [] } });
    assert.deepEqual(req.asked, ['credential:app', 'credential:netrc', 'pre-build:netrc']);
    assert.equal(await readFile(path.join(node.keysDir, 'netrc'), 'utf8'), `${values.netrc}#pre`);
    assert.equal(await node.mode(path.join(node.keysDir, 'netrc')), 0o400);
    assert.equal(await node.mode(node.keysDir), 0o750, 'the folder keeps the mode it had');
    assert.deepEqual(await node.credentials(), values);

    const again = await syncSecrets(node.host, request(key, values, ['app'], ['netrc']));
    assert.deepEqual(again.preBuild, { sent: [], unchanged: ['netrc'], removed: [] });
    assert.deepEqual(again.sent, []);

    const dropped = await syncSecrets(node.host, request(key, values, ['app']));
    assert.deepEqual(dropped, { sent: [], unchanged: ['app'], removed: ['netrc'], preBuild: { sent: [], unchanged: [], removed: ['netrc'] } });
    assert.deepEqual((await readdir(node.keysDir)).sort(), ['.nix-infra-hashes', 'other-tool-key']);
  });
});
