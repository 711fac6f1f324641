import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';
const PASS = { SECRETS_PASS: 'e2e-secrets-pass' };

/** A project folder wired to a fresh 3-host sandbox, with an action module. */
async function project(t: TestContext, hosts = 3): Promise<{ dir: string; sandbox: Sandbox }> {
  const dir = await tempDir(t, 'nix-infra-e2e-');
  const sandbox = await startSandbox(t, { hosts, project: dir });
  await mkdir(path.join(dir, 'app_modules', 'probe'), { recursive: true });
  // Records exactly what it received: each argument and FOO, NUL-separated, in /root/probe.out.
  await writeFile(
    path.join(dir, 'app_modules', 'probe', 'action.sh'),
    '#!/usr/bin/env bash\nprintf "%s\\0" "$@" > /root/probe.args\nprintf "%s" "$FOO" > /root/probe.env\necho "stdout of $1"\necho "stderr of $1" >&2\n',
  );
  return { dir, sandbox };
}

function upper(sandbox: Sandbox, host: string, ...rel: string[]): string {
  const found = sandbox.hosts.find((h) => h.name === host);
  assert.ok(found, host);
  return path.join(found.upperDir, ...rel);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function treeDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of (await readdir(dir, { recursive: true })).map(String).sort()) {
    const info = await stat(path.join(dir, rel));
    hash.update(`${rel} ${(info.mode & 0o777).toString(8)}\n`);
    if (info.isFile()) hash.update(await readFile(path.join(dir, rel)));
  }
  return hash.digest('hex');
}

describe('remote commands on sandbox hosts', { skip, timeout: 120_000 }, () => {
  it('cmd runs on every host, prefixes output, separates stdout and stderr, pins host keys', async (t) => {
    const { dir, sandbox } = await project(t);
    const result = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002', '--target', 'node003', 'hostname; echo oops >&2']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), ['node001: node001', 'node002: node002', 'node003: node003']);
    assert.match(result.stderr, /^node002: oops$/m);
    assert.match(result.stderr, /^3 ok$/m);
    // The pinned keys are the hosts' real keys, in a file plain OpenSSH accepts.
    const pinned = await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8');
    const real = await readFile(sandbox.knownHosts, 'utf8');
    for (const line of pinned.trim().split('\n')) assert.ok(real.includes(line.trim()), line);

    const json = await runCli(['cluster', 'cmd', '-d', dir, '--target', 'node001,node002', '--json', '--', 'exit 3']);
    assert.equal(json.code, 1);
    const doc = JSON.parse(json.stdout) as { ok: boolean; hosts: Array<{ host: string; ok: boolean; exitCode: number }> };
    assert.equal(doc.ok, false);
    assert.deepEqual(doc.hosts.map((h) => [h.host, h.ok, h.exitCode]), [['node001', false, 3], ['node002', false, 3]]);
  });

  it('upload copies a 100-file tree with modes to every host, atomically named', async (t) => {
    const { dir, sandbox } = await project(t);
    const tree = path.join(dir, 'payload');
    for (let i = 0; i < 100; i++) {
      const sub = path.join(tree, `d${i % 7}`);
      await mkdir(sub, { recursive: true });
      await writeFile(path.join(sub, `f${i}`), randomBytes(100 + i * 37));
    }
    await chmod(path.join(tree, 'd1', 'f1'), 0o750);
    await chmod(path.join(tree, 'd2', 'f2'), 0o600);
    const result = await runCli(['fleet', 'upload', '-d', dir, '--target', 'node001 node002 node003', '--file', tree, '--remote-path', '/srv/drop']);
    assert.equal(result.code, 0, result.stderr);
    const expected = await treeDigest(tree);
    for (const host of sandbox.hosts) {
      assert.equal(await treeDigest(upper(sandbox, host.name, 'srv', 'drop', 'payload')), expected, host.name);
      const leftovers = (await readdir(upper(sandbox, host.name, 'srv', 'drop'), { recursive: true })).map(String).filter((f) => f.endsWith('.tmp'));
      assert.deepEqual(leftovers, [], 'no temporary files left');
    }
  });

  it('action passes words and env values literally, cleans up, and can save stdout as a secret', async (t) => {
    const { dir, sandbox } = await project(t);
    const nasty = `semi; touch /root/canary1 $(touch /root/canary2) \`touch /root/canary3\` 'quoted "both"' "line1\nline2"`;
    const env = `FOO=v=1;$(touch /root/canary4) 'x' "y"\`touch /root/canary5\`,OTHER=[%%node002.ipv4%%]`;
    const result = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', nasty, '--env-vars', env]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^node001: stdout of semi;$/m);
    const args = (await readFile(upper(sandbox, 'node001', 'root', 'probe.args'), 'utf8')).split('\0').slice(0, -1);
    assert.deepEqual(args, ['semi;', 'touch', '/root/canary1', '$(touch', '/root/canary2)', '`touch', '/root/canary3`', 'quoted "both"', 'line1\nline2']);
    assert.equal(await readFile(upper(sandbox, 'node001', 'root', 'probe.env'), 'utf8'), `v=1;$(touch /root/canary4) 'x' "y"\`touch /root/canary5\``);
    for (let i = 1; i <= 5; i++) assert.equal(await exists(upper(sandbox, 'node001', 'root', `canary${i}`)), false, `canary${i}`);
    const tmp = (await readdir(upper(sandbox, 'node001', 'tmp')).catch(() => [])).filter((f) => f.startsWith('nix-infra-action'));
    assert.deepEqual(tmp, [], 'the uploaded script was removed');
    assert.match(result.stderr, /warning: --env-vars exposes its values in the process list and shell history; prefer --env-vars-file/);

    // The same value from stdin: nothing on the command line, no warning.
    const piped = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', 'piped', '--env-vars-file', '-'], {
      input: `# a comment\nFOO=${env.split(',OTHER=')[0]?.slice('FOO='.length)}\n\nOTHER=x\n`,
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /warning/);
    assert.equal(await readFile(upper(sandbox, 'node001', 'root', 'probe.env'), 'utf8'), `v=1;$(touch /root/canary4) 'x' "y"\`touch /root/canary5\``);
    for (let i = 1; i <= 5; i++) assert.equal(await exists(upper(sandbox, 'node001', 'root', `canary${i}`)), false, `canary${i}`);
    const twice = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', 'x', '--env-vars-file', '-', '--env-vars', 'FOO=2'], { input: 'FOO=1\n' });
    assert.equal(twice.code, 2, twice.stderr);
    assert.match(twice.stderr, /FOO is given twice/);

    const save = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', 'first', '--store-as-secret', 'probe.out', '--batch'], { env: PASS });
    assert.equal(save.code, 0, save.stderr);
    assert.doesNotMatch(save.stdout, /stdout of first/, 'a saved output is not shown');
    assert.match(save.stderr, /node001: stderr of first/);
    const list = await runCli(['secrets', 'list', '-d', dir, '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { secrets: Array<{ name: string }> }).secrets.map((s) => s.name), ['probe.out']);

    const many = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001 node002', '--app-module', 'probe', '--cmd', 'x', '--save-as-secret', 'two', '--batch'], { env: PASS });
    assert.equal(many.code, 2);
    assert.match(many.stderr, /exactly one target/);
  });

  it('a failing action saves nothing and reports the output tail', async (t) => {
    const { dir } = await project(t);
    await writeFile(path.join(dir, 'app_modules', 'probe', 'action.sh'), 'echo partial-output\necho broke >&2\nexit 4\n');
    const result = await runCli(['fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', 'x', '--save-as-secret', 'never', '--batch'], { env: PASS });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /node001: action failed \(exit 4\)/);
    assert.match(result.stderr, /broke/);
    assert.doesNotMatch(result.stderr + result.stdout, /partial-output/, 'stdout meant for a secret is never printed');
    assert.equal(await exists(path.join(dir, 'secrets', 'never')), false);
  });

  it('upload --remote-path is taken literally; a name that is no hostname is refused before any host is reached', async (t) => {
    const { dir, sandbox } = await project(t);
    await writeFile(path.join(dir, 'f.txt'), 'x');
    const weird = '/root/x; touch /root/canary6 $(touch /root/canary7)';
    const result = await runCli(['fleet', 'upload', '-d', dir, '--target', 'node001', '--file', path.join(dir, 'f.txt'), '--remote-path', weird]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(upper(sandbox, 'node001', ...weird.split('/').filter(Boolean), 'f.txt'), 'utf8'), 'x');
    for (const c of ['canary6', 'canary7']) assert.equal(await exists(upper(sandbox, 'node001', 'root', c)), false);

    // A node name never reaches a remote shell: it is refused as a name (not as an unknown
    // node), for the whole command, before node002 (valid, not yet pinned) is connected to.
    const badName = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node002 node001;touch /root/canary8', 'touch /root/canary9']);
    assert.equal(badName.code, 2, badName.stderr);
    assert.match(badName.stderr, /^Error: not a valid node name or selector: "node001;touch"/m);
    const node002 = sandbox.hosts.find((h) => h.name === 'node002');
    const pinned = await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8');
    assert.ok(node002 && !pinned.split('\n').some((line) => line.startsWith(`${node002.ip} `)), 'node002 was not connected to');
    for (const host of ['node001', 'node002']) {
      for (const c of ['canary8', 'canary9']) assert.equal(await exists(upper(sandbox, host, 'root', c)), false, `${host} ${c}`);
    }
  });
});

/**
 * A CLI run in the background on a sandbox project, with ways to wait on facts about it: a part
 * file growing in `folder` on a host (a transfer in flight), a host reported failed.
 */
function background(sandbox: Sandbox, folder: string, prepare: () => Promise<string[]>, env: Record<string, string> = {}) {
  const child = prepare().then((args) => spawn(process.execPath, [path.resolve('bin/run.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } }));
  let stderr = '';
  const exited = child.then((c) => {
    c.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise<number | null>((resolve) => c.on('close', resolve));
  });
  // What a transfer leaves while in flight: SFTP's `.tmp` part files, or a deploy's stage folder.
  const partsOn = async (host: string): Promise<string[]> =>
    (await readdir(upper(sandbox, host, ...folder.split('/')), { recursive: true }).catch(() => [] as string[]))
      .map(String)
      .filter((n) => n.endsWith('.tmp') || n.split('/').some((part) => part.startsWith('.nix-infra-stage.')));
  const poll = async (done: () => Promise<boolean>, what: string): Promise<void> => {
    for (let tries = 0; !(await done()); tries++) {
      assert.ok(tries < 3000, `never saw: ${what}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    exited,
    stderr: () => stderr,
    partsOn,
    interrupt: () => void child.then((c) => c.kill('SIGINT')),
    /** Waits on the fact (the host's part file has data), not on a sleep. */
    partGrowing: (host: string) =>
      poll(async () => {
        for (const part of await partsOn(host)) {
          const info = await stat(upper(sandbox, host, ...folder.split('/'), part)).catch(() => undefined);
          if (info?.isFile() === true && info.size > 0) return true;
        }
        return false;
      }, `${host}'s part file`),
    reported: (host: string) => poll(async () => stderr.includes(`${host}: failed`), `${host} reported failed`),
  };
}

const BIG = 256 * 1024 * 1024;

/** `fleet upload` of a 256 MiB file (sparse here) to node001-3 in /srv/big, in the background. */
function startBigUpload(dir: string, sandbox: Sandbox, env: Record<string, string> = {}) {
  const big = path.join(dir, 'big.bin');
  const run = background(
    sandbox,
    'srv/big',
    async () => {
      await writeFile(big, '');
      await truncate(big, BIG);
      return ['fleet', 'upload', '-d', dir, '--target', 'node001 node002 node003', '--file', big, '--remote-path', '/srv/big'];
    },
    env,
  );
  return {
    ...run,
    async wholeOn(...hosts: string[]) {
      for (const host of hosts) {
        assert.equal((await stat(upper(sandbox, host, 'srv', 'big', 'big.bin'))).size, BIG, `${host} got the whole file`);
        assert.deepEqual(await run.partsOn(host), [], `${host}: no part file`);
      }
    },
  };
}

describe('faults on sandbox hosts', { skip, timeout: 300_000 }, () => {
  it('a host whose sshd dies during cmd fails alone; the others finish; exit 1', async (t) => {
    const { dir, sandbox } = await project(t);
    const child = spawn(process.execPath, [path.resolve('bin/run.js'), 'fleet', 'cmd', '-d', dir, '--target', 'node001 node002 node003', 'touch /root/started; sleep 3; echo finished'], {
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Wait on the fact (the command started on node002), not on a sleep.
    while (!(await exists(upper(sandbox, 'node002', 'root', 'started')))) await new Promise((r) => setTimeout(r, 50));
    await sandbox.stopHost('node002');
    assert.equal(await exited, 1, stderr);
    assert.deepEqual(stdout.trim().split('\n').sort(), ['node001: finished', 'node003: finished']);
    assert.match(stderr, /^2 ok, 1 failed:$/m);
    assert.match(stderr, /^ {2}node002: /m);
  });

  it('a host stopped mid-upload fails at once with its cause; the others finish; no part files on them; exit 1', async (t) => {
    const { dir, sandbox } = await project(t);
    const upload = startBigUpload(dir, sandbox);
    await upload.partGrowing('node002');
    await sandbox.stopHost('node002');
    assert.equal(await upload.exited, 1, upload.stderr());
    const stderr = upload.stderr();
    assert.match(stderr, /^2 ok, 1 failed:$/m);
    assert.match(stderr, /^ {2}node002: connection lost/m);
    assert.ok(stderr.indexOf('node002: failed') < stderr.indexOf('node001: uploaded'), `node002 was reported before the others were done: ${stderr}`);
    await upload.wholeOn('node001', 'node003');
  });

  it('a host that stops answering mid-upload is given up after the liveness bound; its part file goes once it answers again', async (t) => {
    const { dir, sandbox } = await project(t);
    const upload = startBigUpload(dir, sandbox, { NIX_INFRA_SSH_LIVENESS_SECONDS: '5' });
    await upload.partGrowing('node002');
    // Every process of the host stops (its kernel still takes TCP): nothing answers, nothing resets.
    const frozen = await sandbox.exec('node002', ['sh', '-c', 'kill -STOP -1']);
    assert.equal(frozen.code, 0, frozen.stderr);
    await upload.reported('node002');
    await sandbox.exec('node002', ['sh', '-c', 'kill -CONT -1']);
    assert.equal(await upload.exited, 1, upload.stderr());
    assert.match(upload.stderr(), /^ {2}node002: no answer for 5 s \(SSH keepalives unanswered\): host down or unreachable$/m);
    await upload.wholeOn('node001', 'node003');
    assert.deepEqual(await upload.partsOn('node002'), [], 'node002 answered again before the run ended: its part file was removed');
  });

  it('Ctrl-C mid-upload removes the part files from every host and exits 130', async (t) => {
    const { dir, sandbox } = await project(t);
    const upload = startBigUpload(dir, sandbox);
    for (const host of ['node001', 'node002', 'node003']) await upload.partGrowing(host);
    upload.interrupt();
    assert.equal(await upload.exited, 130, upload.stderr());
    assert.match(upload.stderr(), /upload interrupted; part files removed/);
    for (const host of ['node001', 'node002', 'node003']) assert.deepEqual(await upload.partsOn(host), [], `${host}: no part file`);
  });

  it('a host stopped mid-deploy fails at once; the others finish; no part files on them; exit 1', async (t) => {
    const { dir, sandbox } = await project(t);
    const deploy = background(sandbox, 'etc/nixos', async () => {
      assert.equal((await runCli(['init', '-d', dir, '--batch', '--no-cert-auth', '--template', 'fleet'], { env: { SSH_KEY: 'sandbox' } })).code, 0);
      await mkdir(path.join(dir, 'nodes'), { recursive: true });
      for (const host of sandbox.hosts) await writeFile(path.join(dir, 'nodes', `${host.name}.nix`), '{ ... }: { }\n');
      // A large app module file keeps the transfer in flight long enough to stop a host in it.
      await mkdir(path.join(dir, 'app_modules', 'big'), { recursive: true });
      await writeFile(path.join(dir, 'app_modules', 'big', 'blob.bin'), '');
      await truncate(path.join(dir, 'app_modules', 'big', 'blob.bin'), 96 * 1024 * 1024);
      return ['fleet', 'deploy-apps', '-d', dir, '--target', 'node001 node002 node003', '--ssh-key', 'sandbox', '--batch'];
    });
    await deploy.partGrowing('node002');
    await sandbox.stopHost('node002');
    assert.equal(await deploy.exited, 1, deploy.stderr());
    assert.match(deploy.stderr(), /^2 ok, 1 failed:$/m);
    assert.match(deploy.stderr(), /^ {2}node002: connection lost/m);
    for (const host of ['node001', 'node003']) {
      assert.equal((await stat(upper(sandbox, host, 'etc', 'nixos', 'app_modules', 'big', 'blob.bin'))).size, 96 * 1024 * 1024, host);
      assert.deepEqual(await deploy.partsOn(host), [], `${host}: no part file`);
    }
  });

  it('an unreachable address fails with a reason once the connect timeout is spent', { timeout: 60_000 }, async (t) => {
    const { dir, sandbox } = await project(t, 1);
    const net = sandbox.hosts[0]?.ip.split('.').slice(0, 3).join('.');
    const yaml = await readFile(path.join(dir, 'servers.yaml'), 'utf8');
    await writeFile(path.join(dir, 'servers.yaml'), `${yaml}  ghost:\n    ip: ${net}.250\n    ssh_key: ${sandbox.keyPath}\n`);
    const result = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001 ghost', '--connect-timeout', '3', 'true']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ghost: cannot connect to \S+:22: (timed out|no route to host)/);
    assert.match(result.stderr, /^1 ok, 1 failed:$/m);
  });

  it('a host whose key changed is refused and nothing runs there, until the key is accepted', async (t) => {
    const { dir, sandbox } = await project(t);
    assert.equal((await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002 node003', 'true'])).code, 0);
    /** Gives `host` a new host key of `type` only, as a reinstall would. */
    const rekey = async (host: string, type: string): Promise<void> => {
      await sandbox.exec(host, ['sh', '-c', `rm -f /etc/ssh/ssh_host_*; ssh-keygen -q -t ${type} -N '' -f /etc/ssh/ssh_host_${type}_key`]);
      await sandbox.stopHost(host);
      await sandbox.startHost(host);
    };
    /** The refusal: the node, the pinned key, what the host shows instead, and the way out. */
    const assertRefused = (stderr: string, host: string, instead: RegExp): void => {
      for (const pattern of [new RegExp(`${host}: host key changed`), /pinned: +ssh-ed25519 SHA256:/, instead, new RegExp(`--accept-host-key ${host}`)]) assert.match(stderr, pattern);
    };
    await rekey('node002', 'ed25519');

    const refused = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002 node003', 'touch /root/canary']);
    assert.equal(refused.code, 1);
    assertRefused(refused.stderr, 'node002', /presented: ssh-ed25519 SHA256:/);
    assert.equal(await exists(upper(sandbox, 'node002', 'root', 'canary')), false, 'nothing ran on node002');
    assert.equal(await exists(upper(sandbox, 'node001', 'root', 'canary')), true);

    const accepted = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node002', '--accept-host-key', 'node002', 'touch /root/canary']);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal((await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node002', 'true'])).code, 0, 'the new key is pinned');

    // node003 now offers only a new ECDSA key where Ed25519 is pinned: a changed key, not a handshake error.
    await rekey('node003', 'ecdsa');
    const otherType = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node003', 'touch /root/canary-other']);
    assert.equal(otherType.code, 1);
    assertRefused(otherType.stderr, 'node003', /the host offers no ssh-ed25519 key any more/);
    assert.equal(await exists(upper(sandbox, 'node003', 'root', 'canary-other')), false, 'nothing ran on node003');
    const acceptedOther = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node003', '--accept-host-key', 'node003', 'true']);
    assert.equal(acceptedOther.code, 0, acceptedOther.stderr);
    assert.match(await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8'), /ecdsa-sha2-nistp256 /, 'the ECDSA key is pinned');
    assert.equal((await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node003', 'true'])).code, 0);
  });
});

describe('secrets never leak while an action saves one', { skip, timeout: 60_000 }, () => {
  it('ps on the host and locally never shows the value; no log or output holds it', async (t) => {
    const { dir, sandbox } = await project(t, 1);
    const value = `s3cret-${randomBytes(12).toString('hex')}`;
    const envValue = `env-s3cret-${randomBytes(12).toString('hex')}`;
    // The output value exists on the host only in a file, printed with cat (whose argv is a
    // path). The --env-vars value reaches the script through the environment, never argv.
    await sandbox.exec('node001', ['sh', '-c', `printf %s '${value}' > /root/.value`]);
    // The script holds until the test has seen it running in ps (a fact, not a sleep), so the
    // samples are taken while the process that carries both values exists.
    await sandbox.exec('node001', ['touch', '/root/hold']);
    await writeFile(path.join(dir, 'app_modules', 'probe', 'action.sh'), 'cat /root/.value\n[ -n "$TOKEN" ] || exit 9\nwhile [ -e /root/hold ]; do sleep 0.05; done\n');
    const child = spawn(process.execPath, [path.resolve('bin/run.js'), 'fleet', 'action', '-d', dir, '--target', 'node001', '--app-module', 'probe', '--cmd', 'x', '--env-vars', `TOKEN=${envValue}`, '--save-as-secret', 'leak.check', '--batch'], {
      env: { PATH: process.env.PATH ?? '', ...PASS },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    let running = true;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((running = false), resolve(code))));
    let whileRunning = 0;
    while (running) {
      const local = await new Promise<string>((resolve) => {
        const ps = spawn('ps', ['-eo', 'args']);
        let text = '';
        ps.stdout.on('data', (c: Buffer) => (text += c.toString()));
        ps.on('close', () => resolve(text));
      });
      const remote = await sandbox.exec('node001', ['ps', '-eo', 'args']);
      assert.ok(!local.includes(value), 'local ps shows the secret');
      assert.ok(!remote.stdout.includes(value), 'host ps shows the secret');
      assert.ok(!remote.stdout.includes(envValue), 'host ps shows an --env-vars value');
      if (/nix-infra-action-\S+\.sh/.test(remote.stdout)) whileRunning += 1;
      // Two samples taken while the action runs are enough; then let it end.
      if (whileRunning === 2) await sandbox.exec('node001', ['rm', '-f', '/root/hold']);
    }
    assert.equal(await exited, 0, output);
    assert.ok(whileRunning >= 2, 'ps was sampled while the action ran');
    assert.ok(!output.includes(value), 'the CLI printed the secret');
    const tmpLeft = (await readdir(upper(sandbox, 'node001', 'tmp')).catch(() => [])).filter((f) => f.startsWith('nix-infra-action'));
    assert.deepEqual(tmpLeft, [], 'the script and its variables file are removed');
    const logs = upper(sandbox, 'node001', 'var', 'log');
    for (const file of (await readdir(logs, { recursive: true }).catch(() => [])).map(String)) {
      const full = path.join(logs, file);
      if ((await stat(full)).isFile()) {
        const text = await readFile(full, 'utf8');
        assert.ok(!text.includes(value) && !text.includes(envValue), `found in ${file}`);
      }
    }
    assert.ok(!(await readFile(path.join(dir, 'secrets', 'leak.check'), 'utf8')).includes(value));
  });
});

