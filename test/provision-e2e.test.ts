import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { startHetznerApi } from './hetzner-api/server.js';
import { runCli, runCliAndSignal, runCliOnTerminals } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox, type SandboxHost } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/** The sandbox's nixos-infect stand-in, reached the way the install script fetches any source. */
const SANDBOX_INFECT = ['--nixos-infect-source', 'file:///usr/local/lib/nix-infra-sandbox/nixos-infect', '--nixos-infect-ref', 'test'];

async function withConfiguration(dir: string): Promise<void> {
  await copyFile(path.join(repoRoot, 'templates', 'common', 'configuration.nix'), path.join(dir, 'configuration.nix'));
}

/** A servers.yaml project on `hosts` sandbox hosts, with the template's configuration.nix. */
async function selfHosted(t: TestContext, hosts: number): Promise<{ dir: string; sandbox: Sandbox }> {
  const dir = await tempDir(t, 'nix-infra-provision-');
  const sandbox = await startSandbox(t, { hosts, project: dir });
  await withConfiguration(dir);
  return { dir, sandbox };
}

/**
 * An sshd with its own host key on the address ($1) of a host that is down for its reboot: it
 * lets root in with the usual authorized_keys and answers every command as a freshly converted
 * NixOS machine would (a new boot id, /etc/NIXOS, nixos-version, NixOS os-release), logging
 * each command it got. Started inside the host, so it owns the host's address and dies with it.
 */
const IMPOSTOR = String.raw`set -eu
d=/tmp/impostor
mkdir -p "$d"
ssh-keygen -q -t ed25519 -N '' -f "$d/key" </dev/null
cat >"$d/answer" <<'EOF'
#!/bin/sh
printf '%s\n' "$SSH_ORIGINAL_COMMAND" >>/tmp/impostor/commands.log
case $SSH_ORIGINAL_COMMAND in
  *boot_id*)
    printf 'arch=x86_64\nmem_kb=4000000\nboot_id=%s\nnixos_marker=yes\nnixos_version=25.05.20250101.abcdef (Warbler)\n' "$(cat /proc/sys/kernel/random/uuid)"
    printf 'default_route=default via 10.0.0.1 dev eth0\n--- os-release ---\nID=nixos\nVERSION_ID="25.05"\nPRETTY_NAME="NixOS 25.05 (Warbler)"\n' ;;
esac
exit 0
EOF
chmod 0755 "$d/answer"
cat >"$d/sshd_config" <<EOF
ListenAddress $1:22
HostKey $d/key
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
ForceCommand $d/answer
PidFile $d/sshd.pid
LogLevel INFO
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
`;

function provisionArgs(dir: string, nodes: string, ...extra: string[]): string[] {
  return ['provision', '-d', dir, '--ssh-key', 'sandbox', '--node-names', nodes, '--nixos-version', '25.05', ...SANDBOX_INFECT, '--batch', ...extra];
}

describe('provision on sandbox hosts', { skip, timeout: 240_000 }, () => {
  it('self-hosted: converts every node, waits for the reboot, pins the new key, rebuilds; a failing host is reported, the others complete', async (t) => {
    const { dir, sandbox } = await selfHosted(t, 3);
    await sandbox.setTool('node003', 'nixos-infect', { exit: 1, output: 'nixos-infect: no space left on device' });
    const bootBefore = await sandbox.bootId('node001');
    const keysBefore = await sandbox.hostKeys('node001');

    // On terminals (a task list per host), where the retry round once ended in "connection lost".
    const result = await runCliOnTerminals(provisionArgs(dir, 'node001 node002 node003', '--retries', '1'), { timeoutSeconds: 200 });
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /connection lost/);
    assert.match(result.stderr, /^2 ok, 1 failed:$/m);
    assert.match(result.stderr, /node003: nixos-infect failed \(exit 1\)/);
    assert.match(result.stderr, /nixos-infect: no space left on device/, 'the tail of the failing output is shown');
    assert.match(result.stderr, /node003: conversion failed .*retrying \(1 of 1\)/, 'the failed host was retried');

    for (const node of ['node001', 'node002']) {
      const env = await sandbox.standinEnv(node, 'nixos-infect');
      assert.ok(env, `${node}: nixos-infect ran`);
      assert.equal(env.NIX_CHANNEL, 'nixos-25.05');
      assert.equal(env.NO_REBOOT, '1');
      assert.equal(env.doNetConf, 'y');
      assert.equal(env.PROVIDER, undefined, 'a self-hosted machine is not told it is on a cloud');
      assert.equal(env.NIX_INFRA_INFECT_URL, 'file:///usr/local/lib/nix-infra-sandbox/nixos-infect/test/nixos-infect');
      assert.equal((await sandbox.osRelease(node)).ID, 'nixos');
      const calls = (await sandbox.calls(node)).map((c) => c.join(' '));
      assert.ok(calls.includes('reboot'), `${node} was rebooted: ${calls.join('; ')}`);
      assert.ok(calls.includes('nixos-rebuild switch'), `${node} got its first rebuild: ${calls.join('; ')}`);
      assert.ok(calls.indexOf('nixos-rebuild switch') > calls.indexOf('reboot'), 'the rebuild ran after the reboot');
      // The key changed with the conversion; the project pins the new one, and only that one.
      assert.deepEqual(await sandbox.pinnedHostKeys(node), await sandbox.hostKeys(node));
      const configuration = await readFile(path.join(sandbox.hosts.find((h) => h.name === node)?.upperDir ?? '', 'etc', 'nixos', 'configuration.nix'), 'utf8');
      assert.match(configuration, new RegExp(`networking\\.hostName = "${node}";`));
      assert.match(configuration, /system\.stateVersion = "25\.05";/);
      assert.ok(!configuration.includes('[%%'), 'every placeholder was filled in');
    }
    assert.notEqual(await sandbox.bootId('node001'), bootBefore, 'node001 rebooted');
    assert.notDeepEqual(await sandbox.hostKeys('node001'), keysBefore, 'the ECDSA key, not lustrated, was made anew');
    const ed25519 = (keys: string[]) => keys.filter((k) => k.startsWith('ssh-ed25519 '));
    assert.deepEqual(ed25519(await sandbox.hostKeys('node001')), ed25519(keysBefore), 'the Ed25519 key, listed in NIXOS_LUSTRATE, was kept');
    assert.deepEqual(
      (await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8')).trim().split('\n').filter((l) => l.startsWith(`${sandbox.hosts[0]?.ip} `)),
      ed25519(keysBefore).map((k) => `${sandbox.hosts[0]?.ip} ${k}`),
      'the project pins the key read before the reboot',
    );
    assert.notEqual((await sandbox.osRelease('node003')).ID, 'nixos');
    assert.ok(!(await sandbox.calls('node003')).some((c) => c[0] === 'reboot'), 'a failed conversion is not rebooted');

    // Plain ssh with the project's known_hosts now trusts the converted node (its new key).
    const check = await runCli(['fleet', 'cmd', '-d', dir, '--ssh-key', 'sandbox', '--target', 'node001', 'cat /etc/NIXOS && echo marker']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^node001: marker$/m);

    // Running again converts nothing that already runs NixOS.
    const bootNow = await sandbox.bootId('node001');
    const again = await runCli(provisionArgs(dir, 'node001 node002'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /node001: already runs NixOS/);
    assert.equal(await sandbox.bootId('node001'), bootNow, 'no second reboot');

    // SIGINT while node003 is down in its reboot: the wait ends there (it would poll until the
    // reboot timeout), node003 is reported interrupted, exit 130.
    await sandbox.setTool('node003', 'nixos-infect', {});
    await sandbox.setRebootDelay('node003', 120);
    const stopped = await runCliAndSignal(provisionArgs(dir, 'node003', '--retries', '0', '--reboot-timeout', '100'), {
      when: [/^node003: waiting for the reboot/m],
      signal: 'SIGINT',
    });
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /^0 ok, 1 failed:$/m);
    assert.match(stopped.stderr, /^ {2}node003: interrupted$/m);
  });

  it('Hetzner through the local API server: creates labelled servers backed by sandbox hosts, converts them, destroy deletes only ours', async (t) => {
    const sandbox = await startSandbox(t, { hosts: 2 });
    const dir = await tempDir(t, 'nix-infra-provision-cloud-');
    await mkdir(path.join(dir, 'ssh'), { mode: 0o700 });
    await copyFile(sandbox.keyPath, path.join(dir, 'ssh', 'sandbox'));
    await copyFile(`${sandbox.keyPath}.pub`, path.join(dir, 'ssh', 'sandbox.pub'));
    await withConfiguration(dir);
    const free = sandbox.hosts.map((h) => h.ip);
    const api = await startHetznerApi({ actionMs: 300, onServerCreated: async () => ({ ipv4: free.shift() as string }) });
    t.after(() => api.close());
    const env = { HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint };

    const result = await runCli(
      provisionArgs(dir, 'web1 web2', '--machine-type', 'cx22', '--location', 'fsn1', '--placement-group', 'web', '--connect-timeout', '30'),
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^2 ok$/m);
    const servers = [...api.state.servers.values()];
    assert.deepEqual(servers.map((s) => s.name).sort(), ['web1', 'web2']);
    for (const server of servers) {
      assert.equal(server.labels['managed-by'], 'nix-infra');
      assert.equal(server.labels['nix-infra/role'], 'cluster');
      assert.match(server.labels['nix-infra/project'] ?? '', /^key-[0-9a-f]{16}$/);
    }
    assert.equal(api.state.placementGroups.size, 1);
    assert.equal(api.counters.byRoute['POST /v1/servers'], 2);
    const host = sandbox.hosts[0]?.name as string;
    assert.equal((await sandbox.standinEnv(host, 'nixos-infect'))?.PROVIDER, 'hetznercloud');
    assert.equal((await sandbox.osRelease(host)).ID, 'nixos');

    const listed = await runCli(['servers', 'list', '-d', dir, '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /"web1"/);
    assert.match(listed.stdout, /"web2"/);
    const destroy = await runCli(['cluster', 'destroy', '-d', dir, '--ssh-key', 'sandbox', '--target', 'web1', '--batch'], { env });
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual([...api.state.servers.values()].map((s) => s.name), ['web2']);

    const refused = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'web2', '--batch'], { env: { ...env, NIX_INFRA_PROJECT: 'someone-else' } });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /web2/);
    assert.deepEqual([...api.state.servers.values()].map((s) => s.name), ['web2'], 'another project\'s label deletes nothing');

    // provision registered the project key; ssh-key remove takes it out again, matched by fingerprint.
    assert.deepEqual([...api.state.sshKeys.values()].map((k) => k.name), ['sandbox']);
    const again = await runCli(['ssh-key', 'add', '-d', dir, '--name', 'sandbox'], { env });
    assert.match(again.stdout, /already in Hetzner Cloud/);
    const removed = await runCli(['ssh-key', 'remove', '-d', dir, '--name', 'sandbox'], { env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /SSH key sandbox removed from Hetzner Cloud/);
    assert.equal(api.state.sshKeys.size, 0);
  });

  it('an impostor sshd on the node\'s address during the reboot wait is refused: non-zero exit naming the node, nothing pinned, nothing sent', async (t) => {
    const { dir, sandbox } = await selfHosted(t, 1);
    const node = sandbox.hosts[0] as SandboxHost;
    const [originalKey] = (await sandbox.hostKeys(node.name)).filter((k) => k.startsWith('ssh-ed25519 '));
    // The real machine stays down long after its reboot: whatever answers meanwhile is not it.
    await sandbox.setRebootDelay(node.name, 600);
    const provision = runCli(provisionArgs(dir, node.name, '--reboot-timeout', '300'));
    for (let tries = 0; (await sandbox.status())[node.name] !== 'rebooting'; tries++) {
      assert.ok(tries < 1200, `${node.name} never went down for its reboot`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const started = await sandbox.exec(node.name, ['sh', '-c', IMPOSTOR, 'impostor', node.ip]);
    assert.equal(started.code, 0, started.stderr);

    const result = await provision;
    assert.notEqual(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`${node.name}: after the reboot, ${node.ip.replaceAll('.', '\\.')} presented another host key than the one read before it: refused`));
    const pinned = (await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8')).trim().split('\n');
    assert.deepEqual(pinned, [`${node.ip} ${originalKey}`], 'only the machine\'s own key is pinned, never the impostor\'s');
    const seen = await sandbox.exec(node.name, ['sh', '-c', 'cat /tmp/impostor/commands.log 2>/dev/null; grep -c Accepted /tmp/impostor/sshd.log || true']);
    assert.equal(seen.stdout.trim(), '0', `the impostor authenticated nobody and ran nothing: ${seen.stdout}`);
  });

  it('self-hosted destroy and ssh-key add explain that machines and keys are managed by hand, and exit 0', async (t) => {
    const { dir } = await selfHosted(t, 1);
    const destroy = await runCli(['fleet', 'destroy', '-d', dir, '--target', 'node001']);
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.match(destroy.stdout, /does not delete machines/);
    const add = await runCli(['ssh-key', 'add', '-d', dir, '--name', 'sandbox']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /managed by hand/);
  });
});
