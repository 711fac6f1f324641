import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { caEnv, runCli, runCliAndSignal, runCliOnTerminals } from './support/cli.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/** Every file under `dir` whose bytes contain `needle` (the overlay upper dir of a host). */
async function filesContaining(dir: string, needle: Buffer): Promise<string[]> {
  const found: string[] = [];
  for (const rel of (await readdir(dir, { recursive: true })).map(String)) {
    const file = path.join(dir, rel);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() && (await readFile(file)).includes(needle)) found.push(rel);
  }
  return found;
}

describe('deploy on sandbox hosts: a control node and two cluster nodes', { skip, timeout: 600_000 }, () => {
  it('renders every file with its placeholders, deploys secrets as credentials (changed ones only), removes what is gone, rebuilds', async (t) => {
    const dir = await tempDir(t, 'nix-infra-deploy-');
    const sandbox = await startSandbox(t, { hosts: 3, project: dir });
    const env = { ...caEnv, SSH_KEY: 'sandbox', SECRETS_PASS: 'deploy-e2e-pass', CTRL_NODES: 'node001' };
    const ipOf = (name: string) => sandbox.hosts.find((h) => h.name === name)?.ip as string;
    const upper = (name: string, ...rel: string[]) => path.join(sandbox.hosts.find((h) => h.name === name)?.upperDir ?? '', ...rel);
    assert.equal((await runCli(['init', '-d', dir, '--batch', '--template', 'cluster'], { env })).code, 0);
    const ctrl = await runCli(['init-ctrl', '-d', dir, '--target', 'node001', '--nixos-version', '25.05', '--cluster-uuid', 'deploy-e2e', '--batch'], { env });
    assert.equal(ctrl.code, 0, ctrl.stderr);
    // Logins each host's sshd accepted so far (its own log, beside its overlay).
    const logins = async (name: string) =>
      (await readFile(path.join(path.dirname(upper(name)), 'sshd.log'), 'utf8')).split('\n').filter((l) => l.includes('Accepted publickey')).length;
    const loginsBefore = await Promise.all(['node001', 'node002', 'node003'].map(logins));
    const join = await runCli(['init-node', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--service-group', 'services', '--batch'], { env });
    assert.equal(join.code, 0, join.stderr);
    const after = await Promise.all(['node001', 'node002', 'node003'].map(logins));
    // One connection per node for the whole command: set-up, apps deploy and confd share it. The
    // control node gets a second one: the cluster deploy lock holds its own etcd session for the
    // whole run (taken before the command's own session exists; sharing it is a follow-up).
    assert.deepEqual(after.map((n, i) => n - (loginsBefore[i] as number)), [2, 1, 1], 'logins of node001 (control), node002, node003');
    // flannel would write these leases; the sandbox runs no flannel.
    for (const [node, subnet] of [['node002', '10.10.2.0'], ['node003', '10.10.3.0']] as const) {
      const put = await runCli(['etcd', 'put', `/coreos.com/network/subnets/${subnet}-24`, JSON.stringify({ PublicIP: ipOf(node), BackendType: 'wireguard' }), '-d', dir], { env });
      assert.equal(put.code, 0, put.stderr);
    }

    // Three secrets; one value itself uses a placeholder (resolved with the cluster map).
    const secrets = {
      'db.password': 'p@ss "word" $(touch /tmp/pwned) `id`\nsecond line',
      'api.token': 'tok-9f2c1e',
      'db.url': 'mysql://app@[%%node003.overlayIp%%]:3306/app',
      // A pre-build secret: resolved with the full map, localhost.* included.
      netrc: 'machine [%%localhost.hostname%%].example login ci password hunter2',
    };
    for (const [name, value] of Object.entries(secrets)) {
      const stored = await runCli(['secrets', 'store', '-d', dir, '--name', name, '--batch'], { env, input: value });
      assert.equal(stored.code, 0, stored.stderr);
    }
    const nodeFile = (extra: string) =>
      `{ ... }: {\n  # peer [%%node003.ipv4%%] over [%%node003.overlayIp%%]; me [%%localhost.hostname%%] [%%localhost.overlayIp%%]\n  environment.etc."app.conf".text = "[%%secrets/db.password%%] [%%secrets/api.token%%] [%%secrets/db.url%%]";\n  nix.settings.netrc-file = "/run/keys/[%%pre-build-secrets/netrc%%]";\n${extra}}\n`;
    await mkdir(path.join(dir, 'nodes'), { recursive: true });
    await writeFile(path.join(dir, 'nodes', 'node002.nix'), nodeFile(''));
    // A node file is required by deploy; node003 deploys no app and no secret.
    await writeFile(path.join(dir, 'nodes', 'node003.nix'), '{ ... }: { }\n');
    await mkdir(path.join(dir, 'app_modules', 'web'), { recursive: true });
    await writeFile(path.join(dir, 'app_modules', 'web', 'default.nix'), '{ ... }: { }\n');
    await writeFile(path.join(dir, 'app_modules', 'web', 'old.nix'), '{ ... }: { }\n');

    const deploy = (...extra: string[]) => runCli(['deploy', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--rebuild', '--batch', '--json', ...extra], { env });
    const first = await deploy();
    assert.equal(first.code, 0, first.stderr);
    const report = (r: { stdout: string }) => JSON.parse(r.stdout) as { hosts: { host: string; secrets: { sent: string[]; unchanged: string[]; removed: string[] } }[] };
    assert.deepEqual(report(first).hosts.map((h) => [h.host, h.secrets.sent]), [['node002', ['api.token', 'db.password', 'db.url', 'netrc']], ['node003', []]]);

    // The rendered node file on the node: every placeholder resolved, secrets by name only.
    const rendered = await readFile(upper('node002', 'etc', 'nixos', 'node002.nix'), 'utf8');
    assert.ok(rendered.includes(`# peer ${ipOf('node003')} over 10.10.3.0; me node002 10.10.2.0`), rendered);
    assert.ok(rendered.includes('"db.password api.token db.url"'));
    assert.ok((await readFile(upper('node002', 'etc', 'nixos', 'cluster_node.nix'), 'utf8')).includes(`{ name = "node001"; ip = "${ipOf('node001')}"; }`));
    assert.ok((await sandbox.calls('node002')).some((c) => c.join(' ') === 'nixos-rebuild switch'));

    // On the node each secret is a credential that decrypts to exactly the value.
    for (const [name, value] of Object.entries(secrets)) {
      const out = await sandbox.exec('node002', ['systemd-creds', 'decrypt', `--name=${name}`, `/root/secrets/${name}`, '-']);
      assert.equal(out.code, 0, out.stderr);
      const expected = name === 'db.url' ? 'mysql://app@10.10.3.0:3306/app' : name === 'netrc' ? 'machine node002.example login ci password hunter2' : value;
      assert.equal(out.stdout, expected);
    }
    const netrc = await sandbox.exec('node002', ['cat', '/run/keys/netrc']);
    assert.equal(netrc.stdout, 'machine node002.example login ci password hunter2');
    for (const host of ['node001', 'node002', 'node003']) {
      for (const value of ['tok-9f2c1e', 'second line']) assert.deepEqual(await filesContaining(upper(host), Buffer.from(value)), [], `${value} in plaintext on ${host}`);
    }

    // On terminals (a task list per host): the same deploy succeeds, with the rebuild's output
    // after the list, on the stream it came from (the stand-in's rebuild writes to stderr).
    const onTerminals = await runCliOnTerminals(['deploy', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--rebuild', '--batch'], { env });
    assert.equal(onTerminals.code, 0, onTerminals.stderr);
    assert.match(onTerminals.stderr, /^2 ok$/m);
    assert.match(onTerminals.stderr, /^node003: activating the configuration\.\.\.$/m);
    assert.doesNotMatch(onTerminals.stdout, /activating/);

    // SIGINT while node003's rebuild runs (node002's is done): the rebuild is stopped on the node,
    // the summary shows how far each host got, exit 130.
    const hook = '/etc/nix-infra-sandbox/nixos-rebuild.hook';
    const hang = await sandbox.exec('node003', ['sh', '-c', `printf '#!/bin/sh\\necho rebuild-hangs >&2\\nexec sleep 300\\n' > ${hook} && chmod 755 ${hook}`]);
    assert.equal(hang.code, 0, hang.stderr);
    const stopped = await runCliAndSignal(['deploy', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--rebuild', '--batch', '--debug'], {
      env,
      // node002 is ok twice: once planned, once deployed and rebuilt.
      when: [/^node002: ok$[\s\S]*^node002: ok$/m, /^node003: rebuild-hangs$/m],
      signal: 'SIGINT',
    });
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /^1 ok, 1 failed:$/m);
    assert.match(stopped.stderr, /^ {2}node003: interrupted$/m);
    let rebuildLeft = true;
    // The node ends the rebuild once it sees the connection gone; bounded (a sleep of 300 s left).
    for (let i = 0; rebuildLeft && i < 100; i++) {
      rebuildLeft = (await sandbox.exec('node003', ['pgrep', '-f', 'sleep 300'])).code === 0;
      if (rebuildLeft) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(rebuildLeft, false, 'the rebuild was stopped on node003');
    assert.equal((await sandbox.exec('node003', ['rm', hook])).code, 0);

    // Nothing changed: nothing sent. One secret changed: only that one.
    assert.deepEqual(report(await deploy()).hosts[0]?.secrets.sent, []);
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', 'api.token', '--batch'], { env, input: 'tok-rotated' })).code, 0);
    const rotated = await deploy();
    assert.deepEqual(report(rotated).hosts[0]?.secrets.sent, ['api.token']);

    // What a refused deploy must leave alone: every file under /etc/nixos and /root/secrets
    // (names, sizes, nanosecond mtimes) and the rebuilds recorded.
    const nodeState = async () =>
      Promise.all(['node002', 'node003'].map(async (h) => [(await sandbox.exec(h, ['ls', '-lAR', '--time-style=+%s.%N', '/etc/nixos', '/root/secrets'])).stdout, (await sandbox.calls(h)).length]));
    let untouched = await nodeState();

    // A missing node file: exit 2 naming the node and the path, never a deploy removing its secrets.
    const nodeFile002 = await readFile(path.join(dir, 'nodes', 'node002.nix'));
    await rm(path.join(dir, 'nodes', 'node002.nix'));
    const noNodeFile = await deploy();
    assert.equal(noNodeFile.code, 2, noNodeFile.stderr);
    assert.ok(noNodeFile.stderr.includes(`node002: its node file ${dir}/nodes/node002.nix does not exist; nothing was deployed`), noNodeFile.stderr);
    assert.deepEqual(await nodeState(), untouched, 'nothing reached a node');
    // init-node, where the node file is optional, leaves the secrets of a node without one alone.
    const secretNames = async () => (await sandbox.exec('node002', ['ls', '-A', '/root/secrets'])).stdout;
    const namesBefore = await secretNames();
    const initNoFile = await runCli(['init-node', '-d', dir, '--target', 'node002', '--nixos-version', '25.05', '--service-group', 'services', '--batch'], { env });
    assert.equal(initNoFile.code, 0, initNoFile.stderr);
    assert.match(initNoFile.stderr, /node002: no node file: secrets on the node left unchanged/);
    assert.equal(await secretNames(), namesBefore);
    await writeFile(path.join(dir, 'nodes', 'node002.nix'), nodeFile002);
    untouched = await nodeState();

    // A base64 file planted in secrets/ (no password needed to make one) is refused, exit 2.
    const realDbPassword = await readFile(path.join(dir, 'secrets', 'db.password'));
    await writeFile(path.join(dir, 'secrets', 'db.password'), `${Buffer.from('attacker').toString('base64')}\n`);
    const planted = await deploy();
    assert.equal(planted.code, 2, planted.stderr);
    assert.match(planted.stderr, /secrets\/db\.password is in the Dart tool's legacy format \(only base64, not encrypted\)/);
    assert.match(planted.stderr, /nix-infra secrets import --name db\.password/);
    // (Upstream deployed it with any password; here a wrong one fails on the first v1 secret.)
    const wrongPass = await runCli(['deploy', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--rebuild', '--batch'], { env: { ...env, SECRETS_PASS: 'a wrong password' } });
    assert.equal(wrongPass.code, 2, wrongPass.stderr);
    // An empty file: exit 2 too, with or without the legacy flag.
    await writeFile(path.join(dir, 'secrets', 'db.password'), '');
    for (const extra of [[], ['--allow-legacy-secrets']]) {
      const empty = await deploy(...extra);
      assert.equal(empty.code, 2, empty.stderr);
      assert.match(empty.stderr, /secrets\/db\.password is empty/);
    }
    // An interrupted rekey (here: staged, not switched): deploys refuse and say what to run.
    await writeFile(path.join(dir, 'secrets', 'db.password'), realDbPassword);
    await mkdir(path.join(dir, 'secrets', '.rekey'));
    const duringRekey = await deploy();
    assert.equal(duringRekey.code, 2, duringRekey.stderr);
    assert.match(duringRekey.stderr, /an interrupted `secrets rekey` is pending[^]*run `nix-infra secrets rekey` again/);
    await rm(path.join(dir, 'secrets', '.rekey'), { recursive: true });
    assert.deepEqual(await nodeState(), untouched, 'nothing reached a node');
    // Only with the flag is a legacy file used, and it is named.
    await writeFile(path.join(dir, 'secrets', 'db.password'), `${Buffer.from('legacy value').toString('base64')}\n`);
    const allowed = await deploy('--allow-legacy-secrets');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /using legacy secret file secrets\/db\.password \(legacy-base64\)/);
    assert.deepEqual(report(allowed).hosts[0]?.secrets.sent, ['db.password']);
    await writeFile(path.join(dir, 'secrets', 'db.password'), realDbPassword);
    assert.deepEqual(report(await deploy()).hosts[0]?.secrets.sent, ['db.password']);

    // init-node again on a node whose file references secrets: it deploys the apps like deploy.
    const rejoin = await runCli(['init-node', '-d', dir, '--target', 'node002', '--nixos-version', '25.05', '--service-group', 'services', '--batch'], { env });
    assert.equal(rejoin.code, 0, rejoin.stderr);
    assert.match(rejoin.stderr, /node002: secrets: 0 sent, 4 unchanged, 0 removed/);
    assert.match(rejoin.stdout, /\/cluster\/nodes\/node002: unchanged/);

    // A reference removed: its credential goes; a file removed from app_modules goes too.
    await writeFile(path.join(dir, 'nodes', 'node002.nix'), nodeFile('').replace(' [%%secrets/api.token%%]', ''));
    await rm(path.join(dir, 'app_modules', 'web', 'old.nix'));
    const removed = await deploy();
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(report(removed).hosts[0]?.secrets.removed, ['api.token']);
    await assert.rejects(stat(upper('node002', 'root', 'secrets', 'api.token')));
    await assert.rejects(stat(upper('node002', 'etc', 'nixos', 'app_modules', 'web', 'old.nix')));
    await stat(upper('node002', 'etc', 'nixos', 'app_modules', 'web', 'default.nix'));

    // A referenced secret that is not stored stops the deploy before any node changes.
    await writeFile(path.join(dir, 'nodes', 'node003.nix'), '{ ... }: { x = "[%%secrets/never.stored%%]"; }\n');
    const unstored = await deploy();
    assert.equal(unstored.code, 2, unstored.stderr);
    assert.match(unstored.stderr, /nodes\/node003\.nix: secret never\.stored is referenced but not stored; no node was touched/);
    assert.equal(await readFile(upper('node003', 'etc', 'nixos', 'node003.nix'), 'utf8'), '{ ... }: { }\n', 'node003 got no new file');

    // An unknown placeholder stops the deploy before any node changes, naming file and line.
    await writeFile(path.join(dir, 'nodes', 'node003.nix'), '{ ... }: {\n  x = "[%%node009.ipv6%%]";\n}\n');
    const before = await readFile(upper('node002', 'etc', 'nixos', 'node002.nix'), 'utf8');
    const broken = await deploy();
    assert.equal(broken.code, 2, broken.stderr);
    assert.match(broken.stderr, /nodes\/node003\.nix:2: unknown placeholder \[%%node009\.ipv6%%\]/);
    assert.equal(await readFile(upper('node002', 'etc', 'nixos', 'node002.nix'), 'utf8'), before, 'no node changed');
    // A node that does not exist yet: an error with --strict, else a warning and a marker.
    await writeFile(path.join(dir, 'nodes', 'node003.nix'), '{ ... }: {\n  x = "[%%node009.ipv4%%]";\n}\n');
    const strict = await deploy('--strict');
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /nodes\/node003\.nix:2: \[%%node009\.ipv4%%\]: no server named "node009"$/m);
    assert.equal(await readFile(upper('node002', 'etc', 'nixos', 'node002.nix'), 'utf8'), before, 'no node changed');
    const lenient = await runCli(['deploy', '-d', dir, '--target', 'node003', '--nixos-version', '25.05', '--batch'], { env });
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stderr, /node003: nodes\/node003\.nix:2: \[%%node009\.ipv4%%\]: no server named "node009" yet/);
    assert.match(await readFile(upper('node003', 'etc', 'nixos', 'node003.nix'), 'utf8'), /x = "node009\.ipv4\.nix-infra-unresolved\.invalid";/);
    await writeFile(path.join(dir, 'nodes', 'node003.nix'), '{ ... }: { }\n');

    // A failing rebuild is that host's failure, with its output tail; the other host finishes.
    await sandbox.setTool('node003', 'nixos-rebuild', { exit: 1, output: "error: attribute 'app' missing, at /etc/nixos/node003.nix:1" });
    const failing = await runCli(['deploy', '-d', dir, '--target', 'node002 node003', '--nixos-version', '25.05', '--rebuild', '--batch'], { env });
    assert.equal(failing.code, 1, failing.stderr);
    assert.match(failing.stderr, /node003: nixos-rebuild switch failed \(exit 1\)/);
    assert.match(failing.stderr, /attribute 'app' missing/);
    assert.match(failing.stderr, /^1 ok, 1 failed:$/m);
    await sandbox.setTool('node003', 'nixos-rebuild', {});

    // status: after a deploy every node is in sync; each compartment turns on its own cause.
    assert.equal((await deploy()).code, 0);
    type Status = { inSync: boolean; hosts: Array<{ host: string; inSync: boolean; reachable: boolean; drift?: { kind: string; parts?: string[] }; outOfBand?: { kind: string }; failedUnits?: string[]; lastDeploy?: { operator: string } }> };
    const status = async (): Promise<{ code: number | null; doc: Status; stderr: string }> => {
      const result = await runCli(['status', '-d', dir, '--target', 'node002 node003', '--json', '--connect-timeout', '3'], { env });
      return { code: result.code, doc: JSON.parse(result.stdout) as Status, stderr: result.stderr };
    };
    const synced = await status();
    assert.equal(synced.code, 0, `${synced.stderr} ${JSON.stringify(synced.doc)}`);
    assert.deepEqual(synced.doc.hosts.map((h) => [h.host, h.inSync, h.drift?.kind, h.outOfBand?.kind, h.failedUnits]), [
      ['node002', true, 'in-sync', 'ok', []],
      ['node003', true, 'in-sync', 'ok', []],
    ]);
    assert.match(synced.doc.hosts[0]?.lastDeploy?.operator ?? '', /@/);
    const state = await sandbox.exec('node002', ['stat', '-c', '%a', '/var/lib/nix-infra/state.json']);
    assert.equal(state.stdout.trim(), '600');

    const original = await readFile(path.join(dir, 'nodes', 'node002.nix'), 'utf8');
    await writeFile(path.join(dir, 'nodes', 'node002.nix'), `${original}# edited\n`);
    const drifted = await status();
    assert.equal(drifted.code, 3);
    assert.deepEqual(drifted.doc.hosts.map((h) => [h.host, h.drift?.kind, h.drift?.parts]), [['node002', 'drift', ['apps']], ['node003', 'in-sync', undefined]]);
    await writeFile(path.join(dir, 'nodes', 'node002.nix'), original);

    // A system activated by hand (a rollback on the node, say): out-of-band.
    const manual = await sandbox.exec('node003', ['sh', '-c', 'mkdir -p /nix/store/0000-by-hand && ln -sfn /nix/store/0000-by-hand /run/current-system']);
    assert.equal(manual.code, 0, manual.stderr);
    await sandbox.setTool('node002', 'systemctl', { output: 'broken.service loaded failed failed Broken thing\n' });
    const changed = await status();
    await sandbox.setTool('node002', 'systemctl', {});
    assert.equal(changed.code, 3);
    assert.deepEqual(changed.doc.hosts.map((h) => [h.host, h.outOfBand?.kind, h.failedUnits]), [['node002', 'ok', ['broken.service']], ['node003', 'changed', []]]);

    // A stopped host is unreachable within the connect timeout; the other still reports.
    await sandbox.stopHost('node003');
    const down = await status();
    assert.equal(down.code, 3);
    assert.deepEqual(down.doc.hosts.map((h) => [h.host, h.reachable]), [['node002', true], ['node003', false]]);
    const table = await runCli(['status', '-d', dir, '--target', 'node002 node003', '--connect-timeout', '3'], { env });
    assert.match(table.stdout, /^node003\s+unreachable/m);
    assert.match(table.stderr, /1 in sync, 1 need attention/);
  });

  it('fleet: update uploads the system files, deploy-apps the node file with the running release, init-machine both', async (t) => {
    const dir = await tempDir(t, 'nix-infra-fleet-');
    const sandbox = await startSandbox(t, { hosts: 2, project: dir });
    const env = { SSH_KEY: 'sandbox' };
    assert.equal((await runCli(['init', '-d', dir, '--batch', '--no-cert-auth', '--template', 'fleet'], { env })).code, 0);
    await mkdir(path.join(dir, 'nodes'), { recursive: true });
    await writeFile(path.join(dir, 'nodes', 'node001.nix'), '{ ... }: { networking.extraHosts = "[%%node002.ipv4%%] peer"; }\n');
    const upper = (name: string, ...rel: string[]) => path.join(sandbox.hosts.find((h) => h.name === name)?.upperDir ?? '', ...rel);
    const calls = async (node: string) => (await sandbox.calls(node)).map((c) => c.join(' '));

    const update = await runCli(['fleet', 'update', '-d', dir, '--target', 'node001', '--nixos-version', '25.05', '--batch'], { env });
    assert.equal(update.code, 0, update.stderr);
    assert.match(await readFile(upper('node001', 'etc', 'nixos', 'configuration.nix'), 'utf8'), /networking\.hostName = "node001";/);
    await assert.rejects(stat(upper('node001', 'etc', 'nixos', 'node001.nix')), 'update uploads no node file');
    assert.deepEqual(await calls('node001'), ['nixos-rebuild switch']);

    const apps = await runCli(['fleet', 'deploy-apps', '-d', dir, '--target', 'node001', '--batch'], { env });
    assert.equal(apps.code, 0, apps.stderr);
    assert.match(await readFile(upper('node001', 'etc', 'nixos', 'node001.nix'), 'utf8'), new RegExp(`"${sandbox.hosts[1]?.ip.replace(/\./g, '\\.')} peer"`));
    assert.deepEqual(await calls('node001'), ['nixos-rebuild switch', 'nixos-version', 'nixos-rebuild switch'], 'the running release was read, then rebuilt (fleet default)');

    const missing = await runCli(['fleet', 'update', '-d', dir, '--target', 'node002', '--batch'], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --nixos-version/);

    const refused = await runCli(['fleet', 'init-machine', '-d', dir, '--target', 'node002', '--nixos-version', '25.05', '--no-rebuild', '--batch'], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /always rebuilds; --no-rebuild does not apply/);
    const init = await runCli(['fleet', 'init-machine', '-d', dir, '--target', 'node002', '--nixos-version', '25.05', '--batch'], { env });
    assert.equal(init.code, 0, init.stderr);
    await stat(upper('node002', 'etc', 'nixos', 'flake.nix'));
    await stat(upper('node002', 'etc', 'nixos', 'cluster_node.nix'));
    assert.deepEqual(await calls('node002'), ['nixos-rebuild switch'], 'init-machine always rebuilds');
  });
});
