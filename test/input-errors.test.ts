import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { Config } from '@oclif/core';
import { wholeNumberFlag } from '../src/cli/numeric-flag.js';
import { UserError } from '../src/domain/errors.js';
import { runCli } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** Every way a number can be wrong, for a flag allowing min..max. */
function badValues(min: number, max: number): string[] {
  const values = ['-1', '1.5', '0x10', '1e3', ' 5', '5 ', 'abc', '', 'NaN', 'Infinity', '99999999999999999999', String(max + 1)];
  if (min > 0) values.push(String(min - 1));
  return values;
}

/**
 * A project whose one node (TEST-NET, never reachable) uses `key` as ssh_key: a command that got
 * as far as connecting would fail with a timeout and exit 1, so exit 2 shows the check came first.
 */
async function project(t: TestContext, key?: { content: string; mode: number }): Promise<{ dir: string; keyPath: string }> {
  const dir = await tempDir(t);
  const keyPath = path.join(dir, 'ssh', 'node-key');
  await mkdir(path.dirname(keyPath), { recursive: true });
  if (key === undefined) {
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
  } else {
    await writeFile(keyPath, key.content);
    await chmod(keyPath, key.mode);
  }
  await writeFile(path.join(dir, 'servers.yaml'), `servers:\n  node001:\n    ip: 192.0.2.10\n    ssh_key: ${keyPath}\n`);
  return { dir, keyPath };
}

describe('numeric flags', () => {
  it('every numeric flag of every command is the shared whole-number flag, with a range', async () => {
    const config = await Config.load(repoRoot);
    const shared = wholeNumberFlag({ min: 0, max: 0 }).parse;
    let numeric = 0;
    for (const command of config.commands) {
      const loaded = await command.load();
      for (const [name, flag] of Object.entries(loaded.flags ?? {})) {
        const bounds = flag as { min?: unknown; max?: unknown; parse?: unknown };
        if (bounds.min === undefined && bounds.max === undefined) continue;
        numeric += 1;
        assert.equal(bounds.parse, shared, `${command.id} --${name} uses the shared parser`);
        assert.equal(typeof bounds.min, 'number', `${command.id} --${name}: min`);
        assert.equal(typeof bounds.max, 'number', `${command.id} --${name}: max`);
      }
    }
    assert.ok(numeric >= 8, `found ${numeric} numeric flags`);
  });

  it('each bad value is an input error naming the flag and its range', async () => {
    const config = await Config.load(repoRoot);
    for (const command of config.commands) {
      const loaded = await command.load();
      for (const [name, flag] of Object.entries(loaded.flags ?? {})) {
        const f = flag as { min?: number; max?: number; parse: (input: string, ctx: unknown, opts: unknown) => Promise<number> };
        if (f.min === undefined || f.max === undefined) continue;
        for (const value of badValues(f.min, f.max)) {
          await assert.rejects(f.parse(value, {}, { ...f, name }), (error: unknown) => {
            assert.ok(error instanceof UserError, `${command.id} --${name} ${JSON.stringify(value)}`);
            assert.equal(error.exitCode, 2);
            assert.equal(error.message, `--${name} must be a whole number from ${f.min} to ${f.max}, not ${JSON.stringify(value)}`);
            return true;
          });
        }
        assert.equal(await f.parse(String(f.max), {}, { ...f, name }), f.max);
        assert.equal(await f.parse(String(f.min), {}, { ...f, name }), f.min);
      }
    }
  });

  it('on the command line: exit 2 with one clean line, no "bug" hint', async (t) => {
    const { dir } = await project(t);
    const cases: Array<[string[], string]> = [
      [['fleet', 'cmd', '--target', 'node001', '--concurrency=-1', 'true'], '--concurrency must be a whole number from 1 to 1024, not "-1"'],
      [['fleet', 'cmd', '--target', 'node001', '--connect-timeout', '0x10', 'true'], '--connect-timeout must be a whole number from 1 to 600, not "0x10"'],
      [['fleet', 'provision', '--target', 'node001', '--reboot-timeout', '99999999999999999999'], '--reboot-timeout must be a whole number from 10 to 86400, not "99999999999999999999"'],
      [['fleet', 'port-forward', '--target', 'node001', '--local-port', '1.5', '--remote-port', '22'], '--local-port must be a whole number from 0 to 65535, not "1.5"'],
      [['cluster', 'init-ctrl', '--target', 'node001', '--health-timeout', 'soon'], '--health-timeout must be a whole number from 5 to 3600, not "soon"'],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli([...args, '-d', dir]);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.equal(stderr.split('\n')[0], `Error: ${message}`);
      assert.doesNotMatch(stderr, /bug|Parsing --|See more help/);
    }
  });
});

describe('project files refused before anything runs', () => {
  it('a dangling servers.yaml symlink says so, and never falls back to Hetzner', async (t) => {
    const dir = await tempDir(t);
    const target = path.join(dir, 'gone', 'servers.yaml');
    await symlink(target, path.join(dir, 'servers.yaml'));
    const envs: Array<Record<string, string>> = [{}, { HCLOUD_TOKEN: 'would-be-used' }];
    for (const env of envs) {
      const { code, stderr } = await runCli(['servers', 'list', '-d', dir], { env });
      assert.equal(code, 2, stderr);
      assert.ok(stderr.includes(`is a symbolic link to ${target}, which does not exist`), stderr);
    }
  });

  it('a servers.yaml or .env over 1 MB is refused by its size', async (t) => {
    for (const file of ['servers.yaml', '.env']) {
      const dir = await tempDir(t);
      // Valid-looking content that would take long to parse: one huge YAML/dotenv comment.
      await writeFile(path.join(dir, file), `# ${'x'.repeat(1024 * 1024)}\n`);
      const { code, stderr } = await runCli(['servers', 'list', '-d', dir]);
      assert.equal(code, 2, stderr);
      assert.ok(stderr.startsWith(`Error: ${path.join(dir, file)}: 1.0 MB is larger than the 1 MB a configuration file may have`), stderr);
    }
  });
});

describe('flags naming things that do not exist', () => {
  it('--test-dir that does not exist: exit 2 naming it', async (t) => {
    const { dir } = await project(t);
    const missing = path.join(dir, '__test__', 'nope');
    const { code, stderr } = await runCli(['fleet', 'deploy-apps', '-d', dir, '--target', 'node001', '--test-dir', missing, '--connect-timeout', '1']);
    assert.equal(code, 2, stderr);
    assert.equal(stderr.split('\n')[0], `Error: --test-dir: folder not found: ${missing}`);
  });

  it('--accept-host-key naming an unknown node: exit 2 listing the known ones', async (t) => {
    const { dir } = await project(t);
    const { code, stderr } = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001', '--accept-host-key', 'node01', '--connect-timeout', '1', 'true']);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^Error: --accept-host-key: unknown node\(s\): "node01"\n {2}hint: known nodes: node001$/m);
  });
});

describe('SSH key files', () => {
  it('a key file that is not a private key: exit 2 naming the file', async (t) => {
    const pub = await project(t);
    const { stdout: publicKey } = await exec('ssh-keygen', ['-y', '-f', pub.keyPath]);
    const cases: Array<[string, RegExp]> = [
      ['not a key at all\n', /: not an SSH private key \(/],
      [publicKey, /: is a public key, not a private key$/m],
      ['', /: not an SSH private key \(/],
    ];
    for (const [content, pattern] of cases) {
      const { dir, keyPath } = await project(t, { content, mode: 0o600 });
      const { code, stderr } = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001', '--connect-timeout', '1', 'true']);
      assert.equal(code, 2, stderr);
      assert.ok(stderr.startsWith(`Error: ${keyPath}: `), stderr);
      assert.match(stderr, pattern);
    }
  });

  it('a private key others can read is refused like OpenSSH does, with the chmod to run', async (t) => {
    for (const mode of [0o644, 0o640, 0o604]) {
      const { dir, keyPath } = await project(t);
      await chmod(keyPath, mode);
      const { code, stderr } = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001', '--connect-timeout', '1', 'true']);
      assert.equal(code, 2, stderr);
      assert.ok(stderr.startsWith(`Error: ${keyPath}: permissions 0${mode.toString(8)} are too open`), stderr);
      assert.ok(stderr.includes(`hint: run: chmod 600 ${keyPath}`), stderr);
    }
  });
});

describe('deploy input errors are found while planning, before any host', () => {
  /** A minimal fleet project; node001 is unreachable, so reaching it would fail with exit 1. */
  async function deployProject(t: TestContext): Promise<string> {
    const { dir } = await project(t);
    await exec('ssh-keygen', ['-y', '-f', path.join(dir, 'ssh', 'node-key')]).then(({ stdout }) => writeFile(path.join(dir, 'ssh', 'node-key.pub'), stdout));
    await mkdir(path.join(dir, 'node_types'));
    await mkdir(path.join(dir, 'nodes'));
    await writeFile(path.join(dir, 'configuration.nix'), '{ networking.hostName = "[%%nodeName%%]"; }\n');
    await writeFile(path.join(dir, 'flake.nix'), '{ }\n');
    await writeFile(path.join(dir, 'node_types', 'standalone_machine.nix'), '{ }\n');
    await writeFile(path.join(dir, 'nodes', 'node001.nix'), '{\n  # the node file\n}\n');
    return dir;
  }

  const deploy = (dir: string, ...extra: string[]) =>
    runCli(['fleet', 'deploy-apps', '-d', dir, '--target', 'node001', '--connect-timeout', '1', '--batch', ...(extra.includes('--nixos-version') ? [] : ['--nixos-version', '25.05']), ...extra]);

  it('a project that plans cleanly does try to reach the host (the control case)', async (t) => {
    const dir = await deployProject(t);
    const { code, stderr } = await deploy(dir);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /node001: .*cannot connect to 192\.0\.2\.10:22/);
  });

  it('each input error: exit 2 with one message, nothing per host', async (t) => {
    const cases: Array<[string, (dir: string) => Promise<unknown>, string[], RegExp]> = [
      ['unknown placeholder key', (dir) => writeFile(path.join(dir, 'nodes', 'node001.nix'), '{\n  x = "[%%node001.ipv5%%]";\n}\n'), [], /^Error: nodes\/node001\.nix:2: unknown placeholder \[%%node001\.ipv5%%\]/],
      ['bad --nixos-version', async () => undefined, ['--nixos-version', '25.5; reboot'], /^Error: --nixos-version must be a NixOS release such as 25\.05/],
      ['--node-module outside node_types/', async () => undefined, ['--node-module', '../etc/passwd.nix'], /^Error: --node-module must be a file in node_types\//],
      ['missing configuration.nix', (dir) => rm(path.join(dir, 'configuration.nix')), [], /^Error: configuration\.nix: not found in /],
      ['missing node type', (dir) => rm(path.join(dir, 'node_types', 'standalone_machine.nix')), [], /^Error: node_types\/standalone_machine\.nix: not found in /],
    ];
    for (const [what, breakIt, extra, pattern] of cases) {
      const dir = await deployProject(t);
      await breakIt(dir);
      const { code, stderr } = await deploy(dir, ...extra);
      assert.equal(code, 2, `${what}: ${stderr}`);
      assert.match(stderr, pattern, what);
      assert.doesNotMatch(stderr, /node001: |cannot connect|ok, \d+ failed/, `${what}: reported per host`);
    }
  });
});
