import assert from 'node:assert/strict';
import { access, copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from './support/repo.js';
import { canRunSandbox, connects, mutationPath, nixosInfectPath, run, startSandbox, type Sandbox, type SandboxHost } from './support/sandbox.js';

// Sandbox hosts that reboot, and the nixos-infect stand-in that converts them to "NixOS" at
// their next boot (test/sandbox.test.ts covers the rest of scripts/sandbox).

const exists = (file: string) => access(file).then(() => true, () => false);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether something accepts a TCP connection on ip:22 (only ever a sandbox host's address). */
/** Polls `probe` until it is true, for at most `timeoutMs`. */
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A pid is gone when /proc has no such process or only its zombie. */
async function pidGone(pid: number): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined || text.slice(text.lastIndexOf(')') + 2).startsWith('Z');
}

/** Every process in the host's network namespace: its launcher, init, sshd, sessions... */
async function hostPids(sandbox: Sandbox, host: SandboxHost): Promise<number[]> {
  const k = Number(host.name.replace(/^node0*/, ''));
  const result = await run('ip', ['netns', 'pids', `nxi${sandbox.id}h${k}`]);
  if (result.code !== 0) return [];
  const pids = result.stdout.split('\n').filter(Boolean).map(Number);
  const live = await Promise.all(pids.map(async (pid) => ((await pidGone(pid)) ? undefined : pid)));
  return live.filter((pid): pid is number => pid !== undefined);
}

const infectOverSsh = (env: string) =>
  `curl -fsSL file://${nixosInfectPath} -o /root/nixos-infect && ${env} bash /root/nixos-infect`;

test('sandbox hosts reboot and take nixos-infect', { skip: canRunSandbox() ? false : 'needs root on Linux', timeout: 300_000 }, async (t) => {
  const sandbox = await startSandbox(t, { hosts: 3 });
  const [one, two, three] = sandbox.hosts;
  assert.ok(one && two && three);
  const upper = (host: SandboxHost, file: string) => path.join(host.upperDir, file);

  await t.test('every host has a boot id of its own, read-only, not the machine one', async () => {
    const ids = await Promise.all(sandbox.hosts.map((host) => sandbox.bootId(host.name)));
    for (const id of ids) assert.match(id, uuid);
    assert.equal(new Set(ids).size, ids.length);
    const machine = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    assert.ok(!ids.includes(machine), 'not the machine boot id');
    assert.equal(await sandbox.bootId(one.name), ids[0], 'the same until the next boot');
    const overSsh = await sandbox.ssh(one.name, 'cat /proc/sys/kernel/random/boot_id');
    assert.equal(overSsh.stdout.trim(), ids[0], 'the same over ssh, at the exact procfs path');
    const write = await sandbox.exec(one.name, ['sh', '-c', 'echo 00000000-0000-0000-0000-000000000000 > /proc/sys/kernel/random/boot_id']);
    assert.notEqual(write.code, 0, 'the boot id cannot be written');
  });

  await t.test('the mutation stand-in logs, records its environment, touches /etc/NIXOS, never reboots', async () => {
    await sandbox.setTool(one.name, 'mutation', { exit: 2, output: 'mutation failed\n' });
    const failed = await sandbox.exec(one.name, ['env', '-i', 'FOO=bar', 'bash', mutationPath, '--apply']);
    assert.equal(failed.code, 2);
    assert.equal(failed.stderr, 'mutation failed\n');
    assert.equal(await exists(upper(one, 'etc/NIXOS')), false, 'a failing mutation changes nothing');
    await sandbox.setTool(one.name, 'mutation', {});

    const done = await sandbox.exec(one.name, ['env', '-i', 'FOO=bar', 'EMPTY=', 'bash', mutationPath, '--apply']);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(await sandbox.standinEnv(one.name, 'mutation'), { EMPTY: '', FOO: 'bar' });
    assert.ok(await exists(upper(one, 'etc/NIXOS')));
    assert.deepEqual((await sandbox.calls(one.name)).slice(-2), [['mutation', '--apply'], ['mutation', '--apply']]);
    assert.ok(!(await sandbox.calls(one.name)).some(([tool]) => tool === 'reboot'));
  });

  await t.test('reboot over ssh: sessions drop, the host goes down, comes back with its files, a fresh /run and a new boot id', async () => {
    await sandbox.setRebootDelay(one.name, 1);
    const before = await sandbox.bootId(one.name);
    assert.equal((await sandbox.ssh(one.name, 'echo kept > /root/kept && echo gone > /run/probe')).code, 0);
    const session = sandbox.ssh(one.name, 'echo started; sleep 60', { timeoutMs: 30_000 });
    await waitFor('the session to start', async () => (await sandbox.exec(one.name, ['sh', '-c', 'ps -eo args= | grep -qx "sleep 60"'])).code === 0);

    const result = await sandbox.ssh(one.name, 'reboot');
    // As with a real reboot, the command returns 0, or the connection drops first (255).
    assert.ok(result.code === 0 || result.code === 255, `reboot: ${result.code} ${result.stderr}`);
    await waitFor('the host to go down', async () => (await sandbox.status())[one.name] === 'rebooting');
    assert.equal(await connects(one.ip), 'ECONNREFUSED', 'no sshd while it is down');
    const ended = await session;
    assert.notEqual(ended.code, 0, 'the running session was cut off');

    const after = await sandbox.waitForBootIdChange(one.name, before);
    assert.match(after, uuid);
    assert.notEqual(after, before);
    assert.equal((await sandbox.status())[one.name], 'alive');
    const back = await sandbox.ssh(one.name, 'cat /root/kept; test ! -e /run/probe && echo fresh-run; test -d /run/sshd && echo run-sshd');
    assert.equal(back.stdout, 'kept\nfresh-run\nrun-sshd\n');
    assert.equal(await readFile(upper(one, 'root/kept'), 'utf8'), 'kept\n');
    assert.equal((await sandbox.calls(one.name)).filter(([tool]) => tool === 'reboot').length, 1, 'one reboot call');
    assert.deepEqual((await sandbox.calls(one.name)).at(-1), ['reboot']);
  });

  await t.test('/usr/sbin/reboot and systemctl reboot reboot too; a failing reboot does not', async () => {
    await sandbox.setRebootDelay(one.name, 0.1);
    let before = await sandbox.bootId(one.name);
    const absolute = await sandbox.ssh(one.name, '/usr/sbin/reboot');
    assert.ok(absolute.code === 0 || absolute.code === 255, absolute.stderr);
    before = await sandbox.waitForBootIdChange(one.name, before);

    const systemctl = await sandbox.ssh(one.name, 'systemctl reboot');
    assert.ok(systemctl.code === 0 || systemctl.code === 255, systemctl.stderr);
    before = await sandbox.waitForBootIdChange(one.name, before);

    await sandbox.setTool(one.name, 'reboot', { exit: 1, output: 'reboot refused\n' });
    const refused = await sandbox.ssh(one.name, 'reboot');
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, 'reboot refused\n');
    await sleep(1500); // longer than a reboot would take to start
    assert.equal(await sandbox.bootId(one.name), before, 'no reboot');
    assert.equal((await sandbox.status())[one.name], 'alive');
    await sandbox.setTool(one.name, 'reboot', {});

    const calls = (await sandbox.calls(one.name)).length;
    const after = await sandbox.reboot(one.name);
    assert.notEqual(after, before);
    assert.equal((await sandbox.calls(one.name)).length, calls, 'the helper makes no stand-in call');
    assert.equal((await sandbox.ssh(one.name, 'true')).code, 0);
  });

  await t.test('nixos-infect over ssh stages NixOS; the next boot applies it with new host keys', async () => {
    const keysBefore = await sandbox.hostKeys(two.name);
    assert.deepEqual(await sandbox.pinnedHostKeys(two.name), keysBefore);
    const othersPinned = [await sandbox.pinnedHostKeys(one.name), await sandbox.pinnedHostKeys(three.name)];
    const original = await sandbox.osRelease(two.name);
    assert.notEqual(original.ID, 'nixos');
    const bootBefore = await sandbox.bootId(two.name);
    const oldKnownHosts = path.join(await tempDir(t), 'known_hosts');
    await copyFile(sandbox.knownHosts, oldKnownHosts);

    const env = 'NIX_CHANNEL=nixos-25.05 NO_REBOOT=1 doNetConf=y PROVIDER=hetznercloud';
    const result = await sandbox.ssh(two.name, infectOverSsh(env));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await sandbox.calls(two.name)).at(-1), ['nixos-infect']);
    const got = await sandbox.standinEnv(two.name, 'nixos-infect');
    assert.ok(got);
    assert.equal(got.NIX_CHANNEL, 'nixos-25.05');
    assert.equal(got.NO_REBOOT, '1');
    assert.equal(got.doNetConf, 'y');
    assert.equal(got.PROVIDER, 'hetznercloud');
    assert.match(got.SSH_CONNECTION ?? '', new RegExp(`^\\S+ \\d+ ${two.ip.replaceAll('.', '\\.')} 22$`), 'what the ssh session passed');

    // What the conversion wrote, as the real script does.
    assert.ok(await exists(upper(two, 'etc/NIXOS')));
    assert.deepEqual((await readFile(upper(two, 'etc/NIXOS_LUSTRATE'), 'utf8')).split('\n'), [
      'etc/nixos',
      'etc/resolv.conf',
      'root/.nix-defexpr/channels',
      '',
    ]);
    const configuration = await readFile(upper(two, 'etc/nixos/configuration.nix'), 'utf8');
    assert.match(configuration, /\.\/networking\.nix/);
    assert.match(configuration, /networking\.hostName = "node002";/);
    const publicKey = (await readFile(`${sandbox.keyPath}.pub`, 'utf8')).trim();
    assert.ok(configuration.includes(`"${publicKey}"`), 'root keeps its authorized key');
    assert.match(await readFile(upper(two, 'etc/nixos/networking.nix'), 'utf8'), new RegExp(`address="${two.ip.replaceAll('.', '\\.')}"; prefixLength=24;`));
    assert.ok(await exists(upper(two, 'etc/nixos/hardware-configuration.nix')));
    const parse = await run('nix-instantiate', ['--version']).catch(() => undefined);
    if (parse?.code === 0) {
      for (const file of ['configuration.nix', 'hardware-configuration.nix', 'networking.nix']) {
        const parsed = await run('nix-instantiate', ['--parse', upper(two, `etc/nixos/${file}`)]);
        assert.equal(parsed.code, 0, `${file}: ${parsed.stderr}`);
      }
    }
    const switched = await sandbox.ssh(two.name, '/nix/var/nix/profiles/system/bin/switch-to-configuration boot && /nix/var/nix/profiles/system/sw/bin/nix-collect-garbage -d');
    assert.equal(switched.code, 0, switched.stderr);
    assert.deepEqual((await sandbox.calls(two.name)).slice(-2), [['switch-to-configuration', 'boot'], ['nix-collect-garbage', '-d']]);

    // Nothing of the new system shows before the reboot (NO_REBOOT: none happened).
    assert.equal(await sandbox.bootId(two.name), bootBefore);
    assert.deepEqual(await sandbox.osRelease(two.name), original);
    assert.deepEqual(await sandbox.hostKeys(two.name), keysBefore);

    const reboot = await sandbox.ssh(two.name, 'reboot');
    assert.ok(reboot.code === 0 || reboot.code === 255, reboot.stderr);
    await sandbox.waitForBootIdChange(two.name, bootBefore);

    const release = await sandbox.osRelease(two.name);
    assert.equal(release.ID, 'nixos');
    assert.equal(release.VERSION_ID, '25.05');
    assert.equal(release.PRETTY_NAME, 'NixOS 25.05 (Warbler)');
    assert.ok(await exists(upper(two, 'etc/NIXOS')));
    assert.equal(await exists(upper(two, 'etc/NIXOS_LUSTRATE')), false, 'the first NixOS boot consumes it');
    const keysAfter = await sandbox.hostKeys(two.name);
    assert.equal(keysAfter.length, keysBefore.length);
    for (const key of keysAfter) assert.ok(!keysBefore.includes(key), `${key} is new`);
    assert.deepEqual(await sandbox.pinnedHostKeys(two.name), keysAfter, 'hosts.keys pins the new keys');
    assert.deepEqual([await sandbox.pinnedHostKeys(one.name), await sandbox.pinnedHostKeys(three.name)], othersPinned);

    assert.equal((await sandbox.ssh(two.name, 'true')).code, 0, 'ssh with the updated hosts.keys');
    const stale = await run('ssh', [
      '-F', '/dev/null', '-i', sandbox.keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${oldKnownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5',
      `root@${two.ip}`, 'true',
    ]);
    assert.equal(stale.code, 255);
    assert.match(stale.stderr, /Host key verification failed/);

    // The conversion happens once: later boots keep the keys.
    await sandbox.reboot(two.name);
    assert.deepEqual(await sandbox.hostKeys(two.name), keysAfter);
    assert.equal((await sandbox.osRelease(two.name)).ID, 'nixos');
  });

  await t.test('a failing nixos-infect changes nothing and does not reboot', async () => {
    await sandbox.setTool(three.name, 'nixos-infect', { exit: 1, output: 'error: infect failed\n' });
    const keysBefore = await sandbox.hostKeys(three.name);
    const pinnedBefore = await sandbox.pinnedHostKeys(three.name);
    const original = await sandbox.osRelease(three.name);
    const bootBefore = await sandbox.bootId(three.name);

    const result = await sandbox.ssh(three.name, infectOverSsh('PROVIDER=hetznercloud'));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'error: infect failed\n');
    assert.deepEqual((await sandbox.calls(three.name)).at(-1), ['nixos-infect'], 'logged, and no reboot after it');
    assert.equal((await sandbox.standinEnv(three.name, 'nixos-infect'))?.PROVIDER, 'hetznercloud');
    for (const file of ['etc/NIXOS', 'etc/NIXOS_LUSTRATE', 'etc/nixos', 'etc/nix-infra-sandbox/next-boot', 'nix/var/nix/profiles/system']) {
      assert.equal(await exists(upper(three, file)), false, `no ${file}`);
    }
    assert.equal(await sandbox.bootId(three.name), bootBefore);

    await sandbox.reboot(three.name);
    assert.deepEqual(await sandbox.osRelease(three.name), original);
    assert.deepEqual(await sandbox.hostKeys(three.name), keysBefore);
    assert.deepEqual(await sandbox.pinnedHostKeys(three.name), pinnedBefore);
    await sandbox.setTool(three.name, 'nixos-infect', {});
  });

  await t.test('nixos-infect without NO_REBOOT reboots by itself; its env file is exactly what it got', async () => {
    await sandbox.setRebootDelay(three.name, 0.2);
    const before = await sandbox.bootId(three.name);
    const result = await sandbox.exec(three.name, ['env', '-i', 'NIX_CHANNEL=nixos-25.05', 'NO_REBOOT=', 'PROVIDER=hetznercloud', 'bash', nixosInfectPath, '--flag', 'a b']);
    // It has returned before its reboot kills the host's processes, or it is killed with them.
    assert.ok(result.code === 0 || result.code === null, `${result.code} ${result.stderr}`);
    await sandbox.waitForBootIdChange(three.name, before);
    assert.deepEqual(await sandbox.standinEnv(three.name, 'nixos-infect'), { NIX_CHANNEL: 'nixos-25.05', NO_REBOOT: '', PROVIDER: 'hetznercloud' });
    assert.deepEqual((await sandbox.calls(three.name)).slice(-2), [['nixos-infect', '--flag', 'a b'], ['reboot']]);
    assert.equal((await sandbox.osRelease(three.name)).ID, 'nixos');
    assert.equal(await exists(upper(three, 'etc/nixos/networking.nix')), false, 'no doNetConf, no networking.nix');
    assert.doesNotMatch(await readFile(upper(three, 'etc/nixos/configuration.nix'), 'utf8'), /networking\.nix/);
  });

  await t.test('nixos-infect keeps an existing configuration.nix and then writes no other config', async () => {
    const mine = '{ ... }: { # ours\n}\n';
    assert.equal((await sandbox.ssh(one.name, 'mkdir -p /etc/nixos && cat > /etc/nixos/configuration.nix', { input: mine })).code, 0);
    const result = await sandbox.ssh(one.name, infectOverSsh('NO_REBOOT=1 doNetConf=y'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(upper(one, 'etc/nixos/configuration.nix'), 'utf8'), mine);
    assert.equal(await exists(upper(one, 'etc/nixos/hardware-configuration.nix')), false);
    assert.equal(await exists(upper(one, 'etc/nixos/networking.nix')), false);
    assert.ok(await exists(upper(one, 'etc/nix-infra-sandbox/next-boot/os-release')), 'NixOS is staged all the same');
  });

  await t.test('stop-host during a reboot leaves nothing running, and the host stays down until start-host', async () => {
    await sandbox.setRebootDelay(one.name, 1);
    const pids = await hostPids(sandbox, one);
    assert.ok(pids.length >= 3, `launcher, init, sshd: ${pids.join(' ')}`);
    const before = await sandbox.bootId(one.name);
    const result = await sandbox.ssh(one.name, 'reboot');
    assert.ok(result.code === 0 || result.code === 255, result.stderr);
    await waitFor('the host to go down', async () => (await sandbox.status())[one.name] === 'rebooting');
    await sandbox.stopHost(one.name);
    assert.deepEqual(await hostPids(sandbox, one), []);
    // The launcher outside the host may take a moment to reap its child on a loaded machine.
    for (const pid of pids) await waitFor(`pid ${pid} to be gone`, () => pidGone(pid));
    await sleep(2000); // longer than its reboot delay
    assert.equal((await sandbox.status())[one.name], 'dead');
    assert.equal(await connects(one.ip), 'ECONNREFUSED', 'it did not come back by itself');
    assert.deepEqual(await hostPids(sandbox, one), []);
    assert.equal(await connects(two.ip), true, 'the other hosts stay up');

    await sandbox.startHost(one.name);
    assert.notEqual(await sandbox.bootId(one.name), before);
    assert.equal((await sandbox.ssh(one.name, 'cat /root/kept')).stdout, 'kept\n');
    // start-host is a boot: what nixos-infect staged on it in the test before is applied now.
    assert.equal((await sandbox.osRelease(one.name)).ID, 'nixos');
  });

  await t.test('stop-host after a reboot leaves nothing running', async () => {
    await sandbox.setRebootDelay(one.name, 0.1);
    await sandbox.reboot(one.name);
    // host-init.sh read the delay from the host (it fell back to 1 s when chroot was not on its PATH).
    const initLog = await readFile(path.join(path.dirname(one.upperDir), 'sshd.log'), 'utf8');
    assert.match(initLog.split('\n').filter((l) => l.includes('down for')).at(-1) ?? '', /down for 0\.10*s$/);
    const pids = await hostPids(sandbox, one);
    assert.ok(pids.length >= 3, pids.join(' '));
    await sandbox.stopHost(one.name);
    assert.deepEqual(await hostPids(sandbox, one), []);
    // The launcher outside the host may take a moment to reap its child on a loaded machine.
    for (const pid of pids) await waitFor(`pid ${pid} to be gone`, () => pidGone(pid));
    assert.equal((await sandbox.status())[one.name], 'dead');
    await sandbox.startHost(one.name);
    assert.equal((await sandbox.status())[one.name], 'alive');
  });

  await t.test('down after reboots leaves no namespace, link, mount, process or state behind', async () => {
    await sandbox.reboot(two.name);
    const recorded = (await readFile(path.join(sandbox.stateDir, 'pids'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split(' ')[0]));
    const pids = [...recorded];
    for (const host of sandbox.hosts) pids.push(...(await hostPids(sandbox, host)));
    assert.ok(pids.length >= 9);
    await sandbox.down();
    const namespaces = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(namespaces.stdout, new RegExp(`^nxi${sandbox.id}h`, 'm'));
    const links = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, new RegExp(`: nxi${sandbox.id}(br|v\\d+)[@:]`));
    assert.equal((await readFile('/proc/mounts', 'utf8')).includes(sandbox.stateDir), false);
    // The launcher outside the host may take a moment to reap its child on a loaded machine.
    for (const pid of pids) await waitFor(`pid ${pid} to be gone`, () => pidGone(pid));
    assert.equal(await exists(sandbox.stateDir), false);
  });
});
