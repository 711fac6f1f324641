import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, connects, parseShellWords, run, startSandbox } from './support/sandbox.js';

const exists = (file: string) => access(file).then(() => true, () => false);

/** Whether something accepts a TCP connection on ip:22 (only ever a sandbox host's address). */
/** A pid is gone when /proc has no such process or only its zombie (pid 1 reaps it later). */
async function pidGone(pid: number): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined || text.slice(text.lastIndexOf(')') + 2).startsWith('Z');
}

test('calls.log lines parse back into the exact arguments bash quoted', async () => {
  const args = ['switch', '--fast', 'with space', "it's", '', 'line\nbreak', 'tab\there', 'ü ☃', '$HOME', '*', '~x', '#c', 'a\\b'];
  const quoted = await run('bash', ['-c', 'printf "%q " "$@"', 'bash', ...args], { env: { LANG: 'C', PATH: '/usr/bin:/bin' } });
  assert.equal(quoted.code, 0);
  assert.deepEqual(parseShellWords(quoted.stdout.trimEnd()), args);
});

test('sandbox hosts', { skip: canRunSandbox() ? false : 'needs root on Linux', timeout: 180_000 }, async (t) => {
  const project = await tempDir(t);
  // A project that already has settings: `up --project` keeps them and adds what it needs.
  await mkdir(path.join(project, 'ssh'));
  await writeFile(path.join(project, '.env'), 'KEEP_ME=1\nNIXOS_INFECT_REF=old-ref');
  await writeFile(path.join(project, 'ssh', 'known_hosts'), '192.0.2.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n');
  const sandbox = await startSandbox(t, { hosts: 3, project, asOperator: true });
  const [one, two, three] = sandbox.hosts;
  assert.ok(one && two && three);
  const probe = `probe-${randomBytes(6).toString('hex')}`;

  await t.test('servers.yaml and the project copy name every host and the key', async () => {
    const servers = parse(await readFile(sandbox.serversYaml, 'utf8')) as { servers: Record<string, { ip: string; ssh_key: string }> };
    assert.deepEqual(Object.keys(servers.servers), ['node001', 'node002', 'node003']);
    assert.equal(servers.servers.node001?.ip, `${one.ip}`);
    assert.equal(servers.servers.node001?.ssh_key, sandbox.keyPath);
    assert.equal((await stat(sandbox.keyPath)).mode & 0o777, 0o600);

    const copy = parse(await readFile(path.join(project, 'servers.yaml'), 'utf8')) as typeof servers;
    assert.equal(copy.servers.node003?.ip, three.ip);
    assert.equal(copy.servers.node003?.ssh_key, path.join(project, 'ssh', 'sandbox'));
    assert.equal((await stat(path.join(project, 'ssh', 'sandbox'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(project, 'ssh', 'sandbox.pub'))).mode & 0o777, 0o644);
    assert.deepEqual(await readFile(path.join(project, 'ssh', 'sandbox')), await readFile(sandbox.keyPath));
  });

  await t.test('the project gets .env, pinned host keys and servers.yaml: a command works with no other setting', async () => {
    const env = await readFile(path.join(project, '.env'), 'utf8');
    assert.equal((await stat(path.join(project, '.env'))).mode & 0o777, 0o600);
    const lines = env.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    assert.deepEqual(lines, ['KEEP_ME=1', 'SSH_KEY=sandbox', 'NIXOS_INFECT_SOURCE=file:///usr/local/lib/nix-infra-sandbox/nixos-infect', 'NIXOS_INFECT_REF=test']);
    const pinned = await readFile(path.join(project, 'ssh', 'known_hosts'), 'utf8');
    assert.equal(pinned, `192.0.2.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n${await readFile(sandbox.knownHosts, 'utf8')}`);
    // The CLI finds the hosts, the key and the host keys in the project alone (nothing in env).
    const cmd = await runCli(['fleet', 'cmd', '-d', project, '--target', 'node002', '--batch', 'hostname'], { env: {} });
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.match(cmd.stdout, /^node002: node002$/m);
    assert.equal(await readFile(path.join(project, 'ssh', 'known_hosts'), 'utf8'), pinned, 'no key pinned anew: they were already there');
  });

  await t.test('ssh with the pinned host keys reaches each host, which knows its name', async () => {
    const keys = await readFile(sandbox.knownHosts, 'utf8');
    for (const host of sandbox.hosts) {
      assert.match(keys, new RegExp(`^${host.ip.replaceAll('.', '\\.')} ssh-ed25519 \\S+$`, 'm'));
      const result = await sandbox.ssh(host.name, 'hostname');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), host.name);
    }
    // Each host has keys of its own.
    const ed25519 = keys.split('\n').filter((line) => line.includes(' ssh-ed25519 ')).map((line) => line.split(' ')[2]);
    assert.equal(new Set(ed25519).size, 3);
  });

  await t.test('stand-ins come first in PATH over ssh', async () => {
    const result = await sandbox.ssh(one.name, 'echo "$PATH"; command -v nixos-rebuild systemctl reboot podman');
    assert.equal(result.code, 0, result.stderr);
    const [pathLine, ...tools] = result.stdout.trim().split('\n');
    assert.ok(pathLine?.startsWith('/usr/local/sbin:'), pathLine);
    assert.deepEqual(tools, ['nixos-rebuild', 'systemctl', 'reboot', 'podman'].map((tool) => `/usr/local/sbin/${tool}`));
  });

  await t.test('a file written on one host is in its upper dir only', async () => {
    const result = await sandbox.ssh(one.name, `echo hello > /root/${probe} && echo x > /etc/${probe}`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(one.upperDir, 'root', probe), 'utf8'), 'hello\n');
    assert.ok(await exists(path.join(one.upperDir, 'etc', probe)));
    assert.equal(await exists(path.join(two.upperDir, 'root', probe)), false);
    assert.equal(await exists(`/root/${probe}`), false, 'not on the real filesystem');
    assert.equal(await exists(`/etc/${probe}`), false, 'not on the real filesystem');
    const onTwo = await sandbox.ssh(two.name, `test ! -e /root/${probe}`);
    assert.equal(onTwo.code, 0, 'host 2 does not see it');
    // None of the hosts' mounts is visible from here.
    assert.equal((await readFile('/proc/mounts', 'utf8')).includes(sandbox.stateDir), false);
  });

  await t.test('stand-in calls are logged with their exact arguments', async () => {
    const result = await sandbox.ssh(one.name, `nixos-rebuild switch --fast && nixos-rebuild build --flake 'a b#c' $'x\\ny' ''`);
    assert.equal(result.code, 0, result.stderr);
    const calls = await sandbox.calls(one.name);
    assert.deepEqual(calls.slice(-2), [
      ['nixos-rebuild', 'switch', '--fast'],
      ['nixos-rebuild', 'build', '--flake', 'a b#c', 'x\ny', ''],
    ]);
    assert.deepEqual(await sandbox.calls(two.name), []);
    const version = await sandbox.ssh(one.name, 'nixos-version');
    assert.match(version.stdout, /^\d+\.\d+\.\d+\.\w+ \(\w+\)\n$/);
  });

  await t.test('podman gets its stdin byte for byte', async () => {
    const image = randomBytes(256 * 1024);
    const result = await sandbox.ssh(two.name, 'podman load', { input: image });
    assert.equal(result.code, 0, result.stderr);
    const stored = await readFile(path.join(two.upperDir, 'var', 'log', 'nix-infra-sandbox', 'podman.stdin.1'));
    assert.ok(stored.equals(image));
    assert.deepEqual(await sandbox.calls(two.name), [['podman', 'load']]);
  });

  await t.test('a .exit file makes one host fail with that code and output', async () => {
    await sandbox.setTool(two.name, 'nixos-rebuild', { exit: 3, output: 'error: boom on node002\n' });
    const failed = await sandbox.ssh(two.name, 'nixos-rebuild switch');
    assert.equal(failed.code, 3);
    assert.equal(failed.stdout, 'error: boom on node002\n');
    const other = await sandbox.ssh(three.name, 'nixos-rebuild switch');
    assert.equal(other.code, 0, 'other hosts are unaffected');
    await sandbox.setTool(two.name, 'nixos-rebuild', {});
    assert.equal((await sandbox.ssh(two.name, 'nixos-rebuild switch')).code, 0);
  });

  await t.test('reboot is recorded and the host comes back (test/sandbox-reboot.test.ts has more)', async () => {
    await sandbox.setRebootDelay(three.name, 0.2);
    const before = await sandbox.bootId(three.name);
    const result = await sandbox.ssh(three.name, 'reboot');
    // Like a real reboot: the command returns 0, or the connection drops first (255).
    assert.ok(result.code === 0 || result.code === 255, `reboot: ${result.code} ${result.stderr}`);
    await sandbox.waitForBootIdChange(three.name, before);
    assert.equal((await sandbox.ssh(three.name, 'true')).code, 0);
    assert.deepEqual((await sandbox.calls(three.name)).at(-1), ['reboot']);
  });

  await t.test('stopHost kills the sshd and its sessions; startHost brings the host back', async () => {
    const session = sandbox.ssh(one.name, 'echo started; sleep 60', { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sandbox.stopHost(one.name);
    const ended = await session;
    assert.notEqual(ended.code, 0, 'the running command was cut off');
    assert.equal(await connects(one.ip), 'ECONNREFUSED');
    assert.equal(await connects(two.ip), true, 'the other hosts stay up');

    await sandbox.startHost(one.name);
    assert.equal(await connects(one.ip), true);
    const back = await sandbox.ssh(one.name, `cat /root/${probe}`);
    assert.equal(back.stdout, 'hello\n', 'the host kept its files');
  });

  await t.test('nixos-rebuild models store paths, generations, the current and booted system as NixOS does', async () => {
    const host = three.name;
    const sh = async (command: string): Promise<string> => {
      const result = await sandbox.exec(host, ['bash', '-c', command]);
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
      return result.stdout.trim();
    };
    const writeConfig = (web: string, extra = ''): Promise<string> =>
      sh(`mkdir -p /etc/nixos && printf '%s\n' '{ ... }: { imports = [ ./web.nix ]; services.openssh.enable = true;${extra} }' > /etc/nixos/configuration.nix && printf '%s\n' '${web}' > /etc/nixos/web.nix`);
    const state = async (): Promise<{ current: string; profile: string; generation: string }> => ({
      current: await sh('readlink -f /run/current-system || true'),
      profile: await sh('readlink -f /nix/var/nix/profiles/system || true'),
      generation: await sh('readlink /nix/var/nix/profiles/system || true'),
    });

    await writeConfig('{ systemd.services.web = { script = "v1"; }; }');
    await sh('nixos-rebuild switch');
    const first = await state();
    assert.match(first.current, /^\/nix\/store\/[0-9a-f]{32}-nixos-system-node003$/);
    assert.equal(first.profile, first.current);
    assert.equal(first.generation, 'system-1-link');
    assert.equal(await sh('cat /run/current-system/units | cut -d" " -f1 | paste -sd,'), 'openssh.service,web.service');
    assert.equal(await sh('cat /var/log/nix-infra-sandbox/activation.log'), 'start openssh.service\nstart web.service');
    // Same files, same store path.
    assert.equal(await sh('cd /tmp && nixos-rebuild build && readlink -f result'), first.current);

    await writeConfig('{ systemd.services.web = { script = "v2"; }; }');
    const dry = await sandbox.exec(host, ['nixos-rebuild', 'dry-activate']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^would restart the following units: web\.service$/m);
    assert.doesNotMatch(dry.stderr, /openssh/);
    assert.deepEqual(await state(), first, 'dry-activate changes nothing');

    await sh('nixos-rebuild boot');
    const booted = await state();
    assert.equal(booted.current, first.current, 'boot leaves the running system');
    assert.equal(booted.generation, 'system-2-link');
    assert.notEqual(booted.profile, first.current);

    await sh('nixos-rebuild test --rollback');
    assert.equal((await state()).current, first.current, 'test --rollback activates the previous generation');
    await sh('nixos-rebuild switch --rollback');
    assert.equal((await state()).generation, 'system-1-link');

    await writeConfig('{ systemd.services.web = { script = "v3"; }; }', ' boot.kernelPackages = pkgs.linuxPackages_6_12;');
    await sh('nixos-rebuild test');
    const tested = await state();
    assert.equal(tested.generation, 'system-1-link', 'test leaves the profile');
    assert.notEqual(tested.current, first.current);
    assert.equal(await sh('cat /run/current-system/kernel'), 'linux-6.12');

    // A reboot runs the profile's generation again: booted and current are generation 1.
    await sandbox.reboot(host);
    assert.equal(await sh('readlink -f /run/booted-system'), first.current);
    assert.equal(await sh('readlink -f /run/current-system'), first.current);

    // A configuration that cuts the host off: unreachable until it is rolled back.
    await writeConfig('{ systemd.services.web = { script = "v4"; }; }\n# sandbox: breaks-sshd');
    await sh('nixos-rebuild switch');
    let cut = true;
    for (let i = 0; i < 50 && (await connects(three.ip)) === true; i++) await new Promise((r) => setTimeout(r, 100));
    cut = (await connects(three.ip)) !== true;
    assert.ok(cut, 'the host is cut off');
    await sh('nixos-rebuild switch --rollback');
    assert.equal(await connects(three.ip), true, 'back after the rollback');

    await writeConfig('{ }\n# sandbox: build-fails');
    const failed = await sandbox.exec(host, ['nixos-rebuild', 'switch']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /builder for .* failed/);
  });

  await t.test('down leaves no namespace, link, mount, process or state behind', async () => {
    const pids = (await readFile(path.join(sandbox.stateDir, 'pids'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split(' ')[0]));
    assert.ok(pids.length >= 6);
    await sandbox.down();
    const namespaces = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(namespaces.stdout, new RegExp(`^nxi${sandbox.id}h`, 'm'));
    const links = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, new RegExp(`: nxi${sandbox.id}(br|v\\d+)[@:]`));
    assert.equal((await readFile('/proc/mounts', 'utf8')).includes(sandbox.stateDir), false);
    for (const pid of pids) assert.ok(await pidGone(pid), `pid ${pid} is gone`);
    assert.equal(await exists(sandbox.stateDir), false);
    assert.equal(await exists(`/tmp/nix-infra-sandbox/ids/${sandbox.id}`), false, 'the id is free again');
    await sandbox.down(); // a second down is harmless
  });
});
