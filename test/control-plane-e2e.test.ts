import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { caEnv, fetchThrough, runCli, startPortForward } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

describe('etcd control plane on sandbox hosts', { skip, timeout: 600_000 }, () => {
  it('init-ctrl: certificates, control_node.nix, a 3-member etcd with mTLS; etcd commands through tunnels with failover', async (t) => {
    const dir = await tempDir(t, 'nix-infra-ctrl-');
    const sandbox = await startSandbox(t, { hosts: 6, project: dir });
    // node001-003 run etcd (the sandbox's nixos-rebuild starts the member control_node.nix
    // describes, with the uploaded certificates: scripts/sandbox.d/etcd-member); node004-006 join.
    t.after(async () => {
      for (const host of sandbox.hosts) await sandbox.exec(host.name, ['pkill', '-x', 'etcd']).catch(() => undefined);
    });
    const env = { ...caEnv, SSH_KEY: 'sandbox' };
    const init = await runCli(['init', '-d', dir, '--batch', '--template', 'cluster'], { env });
    assert.equal(init.code, 0, init.stderr);

    const nodes = 'node001 node002 node003';
    const ctrl = await runCli(['init-ctrl', '-d', dir, '--target', nodes, '--nixos-version', '25.05', '--cluster-uuid', 'sandbox-cluster-1', '--health-timeout', '60', '--batch', '--json'], { env });
    assert.equal(ctrl.code, 0, ctrl.stderr);
    const report = JSON.parse(ctrl.stdout) as { ok: boolean; seeded: { key: string; outcome: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.seeded, [
      { key: '/coreos.com/network/config', outcome: 'created' },
      { key: '/cluster/layout', outcome: 'created' },
    ]);

    // /root/certs: 0700, files 0400, exactly the files the etcd member was started with.
    const upper = sandbox.hosts.find((h) => h.name === 'node002')?.upperDir ?? '';
    assert.equal((await stat(path.join(upper, 'root', 'certs'))).mode & 0o777, 0o700);
    for (const file of ['ca-chain.cert.pem', 'node002-client-tls.cert.pem', 'node002-client-tls.key.pem', 'node002-peer-tls.cert.pem', 'node002-peer-tls.key.pem']) {
      assert.equal((await stat(path.join(upper, 'root', 'certs', file))).mode & 0o777, 0o400, file);
    }
    const controlNode = await readFile(path.join(upper, 'etc', 'nixos', 'control_node.nix'), 'utf8');
    assert.match(controlNode, /initialClusterToken = "sandbox-cluster-1";/);
    for (const host of sandbox.hosts.slice(0, 3)) assert.ok(controlNode.includes(`{ name = "${host.name}"; ip = "${host.ip}"; }`), host.name);
    assert.ok(!controlNode.includes('node004'), 'only the control nodes are etcd members');
    assert.ok(!controlNode.includes('[%%'));
    assert.ok((await sandbox.calls('node002')).some((c) => c.join(' ') === 'nixos-rebuild switch'));

    const etcd = (...args: string[]) => runCli(['etcd', ...args, '-d', dir, '--ctrl-nodes', nodes], { env });
    const put = await etcd('put', '/cluster/test/greeting', 'hello "world"');
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /\/cluster\/test\/greeting: created/);
    const get = await etcd('get', '/cluster/test/greeting');
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, '/cluster/test/greeting\nhello "world"\n');
    const network = await runCli(['cluster', 'etcd', 'network', '-d', dir, '--json'], { env: { ...env, CTRL_NODES: nodes } });
    assert.equal(network.code, 0, network.stderr);
    assert.match(network.stdout, /10\.0\.0\.0\/8/);

    // init-ctrl remembers the control nodes for the commands after it.
    const state = JSON.parse(await readFile(path.join(dir, '.nix-infra', 'cluster.json'), 'utf8')) as { version: number; controlNodes: string[] };
    assert.deepEqual(state, { version: 1, controlNodes: ['node001', 'node002', 'node003'] });

    // A second init-ctrl changes nothing in etcd.
    const again = await runCli(['init-ctrl', '-d', dir, '--target', nodes, '--nixos-version', '25.05', '--cluster-uuid', 'sandbox-cluster-1', '--health-timeout', '60', '--batch', '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { seeded: unknown }).seeded, [
      { key: '/coreos.com/network/config', outcome: 'unchanged' },
      { key: '/cluster/layout', outcome: 'unchanged' },
    ]);

    // One member set up again (as after a failure): the member list stays the whole cluster.
    const subset = await runCli(['init-ctrl', '-d', dir, '--target', 'node002', '--ctrl-nodes', nodes, '--nixos-version', '25.05', '--cluster-uuid', 'sandbox-cluster-1', '--batch'], { env });
    assert.equal(subset.code, 0, subset.stderr);
    const again002 = await readFile(path.join(upper, 'etc', 'nixos', 'control_node.nix'), 'utf8');
    for (const host of sandbox.hosts.slice(0, 3)) assert.ok(again002.includes(`{ name = "${host.name}"; ip = "${host.ip}"; }`), host.name);
    const outsider = await runCli(['init-ctrl', '-d', dir, '--target', 'node004', '--ctrl-nodes', nodes, '--nixos-version', '25.05', '--cluster-uuid', 'sandbox-cluster-1', '--batch'], { env });
    assert.equal(outsider.code, 2);
    assert.match(outsider.stderr, /node004: not among the control nodes \(node001, node002, node003\)/);

    // Inputs first: with a secret stored, a wrong secrets password stops init-node before any
    // node is reached (it used to join the node, then ask, then fail, leaving it half-joined).
    // Like the templates' scripts, no command from here on names the control nodes unless it tests that.
    // From here on the store holds a secret, so every deploy needs its password.
    const withSecrets = { ...env, SECRETS_PASS: 'right-pw' };
    const stored = await runCli(['secrets', 'store', '-d', dir, '--name', 'app.key', '--secret', 'v', '--batch'], { env: withSecrets });
    assert.equal(stored.code, 0, stored.stderr);
    const ipOf = (name: string) => sandbox.hosts.find((h) => h.name === name)?.ip as string;
    // Every SSH login a host accepted, from its sshd's own log (next to its upper dir).
    const logins = async (node: string) => {
      const log = path.join(sandbox.hosts.find((h) => h.name === node)?.upperDir ?? '', '..', 'sshd.log');
      return (await readFile(log, 'utf8')).split('\n').filter((line) => line.startsWith('Accepted publickey')).length;
    };
    const loginsBefore = new Map<string, number>();
    for (const node of ['node004', 'node005', 'node006']) loginsBefore.set(node, await logins(node));
    const joinArgs = ['init-node', '-d', dir, '--target', 'node004 node005 node006', '--nixos-version', '25.05', '--service-group', 'backends services', '--batch'];
    const wrongPassword = await runCli(joinArgs, { env: { ...env, SECRETS_PASS: 'wrong-pw' } });
    assert.equal(wrongPassword.code, 2, wrongPassword.stderr);
    assert.match(wrongPassword.stderr, /app\.key.*wrong password/);
    for (const node of ['node004', 'node005', 'node006']) {
      assert.deepEqual(await sandbox.calls(node), [], `${node}: no tool ran`);
      assert.equal(await logins(node), loginsBefore.get(node), `${node}: no SSH connection`);
      await assert.rejects(stat(path.join(sandbox.hosts.find((h) => h.name === node)?.upperDir ?? '', 'root', 'certs')), `${node}: no certificates uploaded`);
    }
    assert.equal((await etcd('get', '/cluster/nodes/node004')).stdout, '', 'not registered');

    // init-node: three cluster nodes join and are registered with upstream's JSON shape.
    // node005's file names what does not exist yet (the templates' create flow): a node not
    // created, another node's overlay IP and its own before flannel leased them.
    const forwardRefs = '{ ... }: {\n  environment.etc."registry".text = "[%%registry001.overlayIp%%]:5000";\n  environment.etc."peers".text = "[%%localhost.overlayIp%%] [%%node006.overlayIp%%]";\n}\n';
    await writeFile(path.join(dir, 'nodes', 'node005.nix'), forwardRefs);
    const join = await runCli(joinArgs, { env: withSecrets });
    assert.equal(join.code, 0, join.stderr);
    assert.ok((await logins('node004')) > (loginsBefore.get('node004') ?? 0), 'the login count sees a connection');
    assert.match(join.stderr, /node005: nodes\/node005\.nix:2: \[%%registry001\.overlayIp%%\]: no server named "registry001" yet; rendered as registry001\.overlayIp\.nix-infra-unresolved\.invalid/);
    assert.match(join.stderr, /node005: nodes\/node005\.nix:3: \[%%localhost\.overlayIp%%\]: no overlay IP known for node005 yet/);
    assert.match(join.stderr, /node005: nodes\/node005\.nix:3: \[%%node006\.overlayIp%%\]: no overlay IP known for node006 yet/);
    const node005File = () => readFile(path.join(sandbox.hosts.find((h) => h.name === 'node005')?.upperDir ?? '', 'etc', 'nixos', 'node005.nix'), 'utf8');
    assert.match(await node005File(), /"registry001\.overlayIp\.nix-infra-unresolved\.invalid:5000"/);
    assert.match(await node005File(), /"node005\.overlayIp\.nix-infra-unresolved\.invalid node006\.overlayIp\.nix-infra-unresolved\.invalid"/);
    for (const node of ['node004', 'node005', 'node006']) {
      const record = await etcd('get', `/cluster/nodes/${node}`);
      assert.equal(record.code, 0, record.stderr);
      assert.equal(record.stdout, `/cluster/nodes/${node}\n{"name":"${node}","ipv4":"${ipOf(node)}","services":["backends","services"]}\n`);
      const calls = (await sandbox.calls(node)).map((c) => c.join(' '));
      assert.ok(calls.indexOf('systemctl restart confd') > calls.indexOf('nixos-rebuild switch'), `${node}: confd restarted after the rebuild`);
    }
    // --strict: the same references are errors (input, exit 2) and nothing is deployed; a typo
    // in a key is an error without it.
    const strict = await runCli(['init-node', '-d', dir, '--target', 'node005', '--nixos-version', '25.05', '--service-group', 'backends services', '--strict', '--batch'], { env: { ...env, SECRETS_PASS: 'right-pw' } });
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /nodes\/node005\.nix:2: \[%%registry001\.overlayIp%%\]: no server named "registry001"/);
    await writeFile(path.join(dir, 'nodes', 'node006.nix'), '{ ... }: { x = "[%%node004.overlayIP%%]"; }\n');
    const typo = await runCli(['cluster', 'deploy-apps', '-d', dir, '--target', 'node006', '--batch'], { env: { ...env, SECRETS_PASS: 'right-pw' } });
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /nodes\/node006\.nix:1: unknown placeholder \[%%node004\.overlayIP%%\]/);
    await rm(path.join(dir, 'nodes', 'node006.nix'));
    const worker = sandbox.hosts.find((h) => h.name === 'node005')?.upperDir ?? '';
    assert.equal((await stat(path.join(worker, 'root', 'certs', 'node005-client-tls.key.pem'))).mode & 0o777, 0o400);
    await assert.rejects(stat(path.join(worker, 'root', 'certs', 'node005-peer-tls.key.pem')), 'a cluster node gets no peer certificate');
    const clusterNode = await readFile(path.join(worker, 'etc', 'nixos', 'cluster_node.nix'), 'utf8');
    assert.ok(clusterNode.includes(`{ name = "node001"; ip = "${ipOf('node001')}"; }`));

    // The templates' test harness: cluster deploy-apps --test-dir ... --target, no control-node flags.
    const testDir = path.join(dir, '__test__', 'probe');
    await mkdir(path.join(testDir, 'nodes'), { recursive: true });
    await writeFile(path.join(testDir, 'nodes', 'node004.nix'), '{ ... }: { environment.etc."probe".text = "[%%node006.ipv4%%] [%%localhost.hostname%%]"; }\n');
    const deployApps = await runCli(['cluster', 'deploy-apps', '-d', dir, '--test-dir', testDir, '--target', 'node004', '--batch'], { env: withSecrets });
    assert.equal(deployApps.code, 0, deployApps.stderr);
    const upper004 = sandbox.hosts.find((h) => h.name === 'node004')?.upperDir ?? '';
    assert.match(await readFile(path.join(upper004, 'etc', 'nixos', 'node004.nix'), 'utf8'), new RegExp(`"${ipOf('node006').replace(/\./g, '\\.')} node004"`));
    // --ctrl-nodes still overrides what init-ctrl remembered.
    const overridden = await runCli(['cluster', 'deploy-apps', '-d', dir, '--test-dir', testDir, '--target', 'node004', '--ctrl-nodes', 'node009', '--batch'], { env: withSecrets });
    assert.equal(overridden.code, 2, overridden.stderr);
    assert.match(overridden.stderr, /unknown node\(s\): node009/);
    // etcd ctl: etcdctl on a control node with its own certificate, arguments passed as they are.
    const ctl = await runCli(['etcd', 'ctl', '-d', dir, '--ctrl-nodes', nodes, '--', 'get', '/cluster/nodes/node004', '--print-value-only'], { env });
    assert.equal(ctl.code, 0, ctl.stderr);
    assert.equal(ctl.stdout.trim(), `{"name":"node004","ipv4":"${ipOf('node004')}","services":["backends","services"]}`);
    // Upstream's test teardown: the whole etcdctl command line in one string, split like a shell
    // would; the keys are really gone.
    for (const key of ['/cluster/services/probe/meta_data', '/cluster/services/probe/instances/node004', '/cluster/services/other/meta_data']) {
      assert.equal((await etcd('put', key, '{"port":1}')).code, 0);
    }
    const teardown = await runCli(['cluster', 'etcd', 'ctl', 'del --prefix /cluster/services', '--target=node001', '-d', dir], { env });
    assert.equal(teardown.code, 0, teardown.stderr);
    assert.equal(teardown.stdout.trim(), '3', 'etcdctl del prints how many keys it deleted');
    const left = await runCli(['etcd', 'ctl', '-d', dir, '--target', 'node001', 'get --prefix /cluster/services --keys-only'], { env });
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.stdout.trim(), '');
    const view = await etcd('nodes', '--json');
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /node006/);

    // Overlay IPs from flannel's leases in cluster actions; a lease of a vanished node is skipped.
    await etcd('put', '/coreos.com/network/subnets/10.10.4.0-24', JSON.stringify({ PublicIP: ipOf('node004'), BackendType: 'wireguard' }));
    await etcd('put', '/coreos.com/network/subnets/10.10.6.0-24', JSON.stringify({ PublicIP: ipOf('node006'), BackendType: 'wireguard' }));
    await etcd('put', '/coreos.com/network/subnets/10.10.9.0-24', JSON.stringify({ PublicIP: '192.0.2.99', BackendType: 'wireguard' }));
    await mkdir(path.join(dir, 'app_modules', 'probe'), { recursive: true });
    await writeFile(path.join(dir, 'app_modules', 'probe', 'action.sh'), '#!/usr/bin/env bash\necho "peer=$PEER self=$SELF"\n');
    const action = await runCli(
      ['cluster', 'action', '-d', dir, '--target', 'node004', '--app-module', 'probe', '--cmd', 'show', '--env-vars', 'PEER=[%%node006.overlayIp%%],SELF=[%%localhost.overlayIp%%]'],
      { env },
    );
    assert.equal(action.code, 0, action.stderr);
    assert.match(action.stdout, /^node004: peer=10\.10\.6\.0 self=10\.10\.4\.0$/m);
    assert.match(action.stderr, /10\.10\.9\.0-24 skipped/);

    // cluster port-forward goes to the node's overlay IP (given to node004's loopback here, with a
    // web server on it, since the sandbox runs no flannel).
    await sandbox.exec('node004', ['ip', 'addr', 'add', '10.10.4.0/32', 'dev', 'lo']);
    await sandbox.exec('node004', ['sh', '-c', 'mkdir -p /srv/www && echo overlay-hello > /srv/www/index.html && cd /srv/www && nohup python3 -m http.server 8080 --bind 10.10.4.0 >/dev/null 2>&1 &']);
    const forward = await startPortForward(
      ['cluster', 'port-forward', '-d', dir, '--target', 'node004', '--local-port', '0', '--remote-port', '8080'],
      env,
      / -> node004 10\.10\.4\.0:8080/,
    );
    assert.equal((await fetchThrough(forward.port)).trim(), 'overlay-hello');
    assert.equal(await forward.stop(), 0, forward.stderr());

    // A registry on node004's overlay IP (a static stand-in for its HTTP API): found without
    // --use-localhost and without control-node flags.
    await sandbox.exec('node004', [
      'sh',
      '-c',
      'mkdir -p /srv/registry/v2/web/tags && echo \'{"repositories":["web"]}\' > /srv/registry/v2/_catalog && echo \'{"name":"web","tags":["1.0"]}\' > /srv/registry/v2/web/tags/list && cd /srv/registry && nohup python3 -m http.server 5000 --bind 10.10.4.0 >/dev/null 2>&1 &',
    ]);
    // Bounded wait until it answers (a fact, not a sleep).
    const answering = await sandbox.exec('node004', ['sh', '-c', 'for i in $(seq 100); do curl -fsS -o /dev/null http://10.10.4.0:5000/v2/_catalog && exit 0; sleep 0.1; done; exit 1']);
    assert.equal(answering.code, 0, `the stand-in registry answers: ${answering.stderr}`);
    const images = await runCli(['registry', 'list-images', '-d', dir, '--target', 'node004', '--json'], { env });
    assert.equal(images.code, 0, images.stderr);
    assert.deepEqual(JSON.parse(images.stdout), { images: [{ name: 'web', tags: ['1.0'] }] });

    // cluster destroy: node005 leaves (flannel stopped, registration and lease deleted) before the
    // provider is asked; servers.yaml machines are not deleted, which the command says.
    const lease = '/coreos.com/network/subnets/10.10.5.0-24';
    assert.equal((await etcd('put', lease, JSON.stringify({ PublicIP: ipOf('node005'), BackendType: 'wireguard' }))).code, 0);
    // Re-running once the leases exist resolves the overlay IPs; registry001 still does not exist.
    const rerun = await runCli(['cluster', 'deploy-apps', '-d', dir, '--target', 'node005', '--batch'], { env: { ...env, SECRETS_PASS: 'right-pw' } });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(await node005File(), /"10\.10\.5\.0 10\.10\.6\.0"/);
    assert.doesNotMatch(rerun.stderr, /overlay IP known/);
    assert.match(rerun.stderr, /\[%%registry001\.overlayIp%%\]: no server named "registry001" yet/);
    const instances = ['/cluster/services/probe/instances/node005', '/cluster/backends/app/instances/node005', '/cluster/frontends/web/instances/node005'];
    for (const key of [...instances, '/cluster/backends/app/instances/node004']) {
      assert.equal((await etcd('put', key, JSON.stringify({ node: key.split('/').pop(), ipv4: '10.10.5.0', port: 8080 }))).code, 0);
    }
    const leave = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'node005', '--ctrl-nodes', nodes, '--batch'], { env });
    assert.equal(leave.code, 0, leave.stderr);
    assert.match(leave.stdout, /does not delete machines/);
    assert.equal((await etcd('get', '/cluster/nodes/node005')).code, 1, 'the registration is gone');
    assert.equal((await etcd('get', lease)).code, 1, 'the lease is gone');
    for (const key of instances) {
      const gone = await etcd('get', key);
      assert.deepEqual([gone.code, gone.stdout, gone.stderr], [1, '', ''], `${key} is gone`);
    }
    const kept = await etcd('get', '/cluster/backends/app/instances/node004');
    assert.equal(kept.code, 0, `another node's instance stays: ${kept.stderr}`);
    assert.equal((await etcd('get', '/cluster/nodes/node004')).code, 0, 'the others stay');
    assert.ok((await sandbox.calls('node005')).some((c) => c.join(' ') === 'systemctl stop flannel'));

    // The cluster deploy lock is an etcd lease per node (with CTRL_NODES): while one run holds
    // node004, a second exits 75 naming it and changes nothing; the lock lives in etcd, not on
    // the node, and goes with the run; a compact audit record lands in /cluster/audit/.
    const clusterEnv = { ...env, CTRL_NODES: nodes };
    const node004 = sandbox.hosts.find((h) => h.name === 'node004')?.upperDir ?? '';
    const holder = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), 'cluster', 'cmd', '-d', dir, '--target', 'node004', 'touch /root/started; while [ ! -e /root/go ]; do sleep 0.1; done; echo held >> /root/lockrun'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...clusterEnv },
      stdio: 'ignore',
    });
    const held = new Promise<number | null>((resolve) => holder.on('close', resolve));
    for (let i = 0; i < 600 && !(await stat(path.join(node004, 'root', 'started')).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const lockKey = await etcd('get', '/cluster/lock/nodes/node004');
    assert.equal(lockKey.code, 0, lockKey.stderr);
    assert.match(lockKey.stdout, new RegExp(`"pid":${holder.pid}`));
    const second = await runCli(['cluster', 'cmd', '-d', dir, '--target', 'node004', 'echo second >> /root/lockrun'], { env: clusterEnv });
    assert.equal(second.code, 75, second.stderr);
    assert.match(second.stderr, new RegExp(`node004: cluster deploy lock held by \\S+ \\(pid ${holder.pid}, nix-infra cluster cmd --target "node004"\\)`));
    assert.equal(await stat(path.join(node004, 'run', 'nix-infra', 'lock', 'node')).then(() => true, () => false), false, 'no lock directory on the node');
    await sandbox.exec('node004', ['touch', '/root/go']);
    assert.equal(await held, 0);
    assert.equal(await readFile(path.join(node004, 'root', 'lockrun'), 'utf8'), 'held\n', 'only the holder changed the node');
    assert.equal((await etcd('get', '/cluster/lock/nodes/node004')).code, 1, 'released with the run');
    const audit = await runCli(['etcd', 'ctl', '-d', dir, '--ctrl-nodes', nodes, '--', 'get', '/cluster/audit/', '--prefix', '--print-value-only'], { env });
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /"command":"nix-infra cluster cmd","selector":\["node004"\],"nodes":1,"result":"ok"/);

    // One member down: the commands still work through the others.
    await sandbox.stopHost('node001');
    const failover = await etcd('get', '/cluster/test/greeting');
    assert.equal(failover.code, 0, failover.stderr);
    assert.match(failover.stdout, /hello "world"/);
    const del = await etcd('del', '/cluster/test/', '--prefix');
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /deleted 1/);

    const bad = await etcd('get', 'cluster/no-slash');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /etcd key "cluster\/no-slash" must start with "\/"/);
    assert.ok(!bad.stderr.includes('skipping'), 'a bad key is refused before any connection');

    // apps list / apps status and the views' tables, from what node units would register.
    const meta = { publish: { port: 11000 }, env_prefix: 'WEB', env: { WEB_SCHEME: 'http', WEB_DB_PASSWORD: 'hunter2' } };
    assert.equal((await etcd('put', '/cluster/services/web/meta_data', JSON.stringify(meta))).code, 0);
    for (const [host, ipv4] of [['node004', '10.10.4.0'], ['node006', '10.10.6.0']] as const) {
      assert.equal((await etcd('put', `/cluster/services/web/instances/${host}`, JSON.stringify({ node: host, ipv4, port: 8080 }))).code, 0);
    }
    const apps = await runCli(['apps', 'list', '-d', dir, '--ctrl-nodes', nodes, '--json'], { env });
    assert.equal(apps.code, 0, apps.stderr);
    const appRows = (JSON.parse(apps.stdout) as { apps: { app: string; group: string }[] }).apps;
    assert.deepEqual(
      appRows.find((row) => row.app === 'web' && row.group === 'services'),
      {
        app: 'web',
        group: 'services',
        publishPort: 11000,
        envPrefix: 'WEB',
        instances: [
          { host: 'node004', node: 'node004', ipv4: '10.10.4.0', port: 8080 },
          { host: 'node006', node: 'node006', ipv4: '10.10.6.0', port: 8080 },
        ],
        consumers: ['node004', 'node006'],
      },
    );
    const status = await runCli(['apps', 'status', 'web', '-d', dir, '--ctrl-nodes', nodes], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^publish port: 11000$/m);
    assert.match(status.stdout, /^consumers: +node004 node006$/m);
    assert.match(status.stdout, /^env\.WEB_SCHEME +http$/m);
    assert.match(status.stdout, /^node006 +node006 +10\.10\.6\.0:8080$/m);
    assert.match(status.stdout, /^hidden \(secret-looking names\): env\.WEB_DB_PASSWORD$/m);
    assert.ok(!status.stdout.includes('hunter2') && !status.stderr.includes('hunter2'), 'a secret-looking field is never printed');
    const unknown = await runCli(['apps', 'status', 'nope', '-d', dir, '--ctrl-nodes', nodes], { env });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /app "nope" has no keys under \/cluster\/\{services,backends,frontends\}\/nope\//);
    const servicesTable = await etcd('services');
    assert.equal(servicesTable.code, 0, servicesTable.stderr);
    assert.equal(servicesTable.stdout, 'APP  PUBLISH PORT  ENV PREFIX  INSTANCES\nweb  11000         WEB         node004 10.10.4.0:8080, node006 10.10.6.0:8080\n');
    const nodesTable = await etcd('nodes');
    assert.equal(nodesTable.code, 0, nodesTable.stderr);
    assert.match(nodesTable.stdout, /^NODE +IPV4 +CONSUMES\nnode004 +\S+ +backends services\n/);

    // etcd down on every member left: init-node changes nothing on the node (before: it rewrote
    // /etc/nixos and /root/certs, said "1 ok", then failed on etcd).
    for (const host of ['node002', 'node003']) await sandbox.exec(host, ['pkill', '-x', 'etcd']);
    const snapshot = async (): Promise<string[]> => {
      const files: string[] = [];
      for (const folder of ['etc/nixos', 'root/certs']) {
        for (const rel of (await readdir(path.join(worker, folder), { recursive: true })).map(String).sort()) {
          const info = await stat(path.join(worker, folder, rel));
          files.push(`${folder}/${rel} ${info.mtimeMs} ${info.size}`);
        }
      }
      return files;
    };
    const before = await snapshot();
    const callsBefore = (await sandbox.calls('node005')).length;
    const down = await runCli(['init-node', '-d', dir, '--target', 'node005', '--nixos-version', '25.05', '--ctrl-nodes', nodes, '--batch'], { env: withSecrets });
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /etcd on the control nodes does not answer \(.*\); nothing was changed on the nodes/);
    assert.doesNotMatch(down.stderr, /1 ok/);
    assert.deepEqual(await snapshot(), before, 'node005\'s /etc/nixos and /root/certs are untouched');
    assert.equal((await sandbox.calls('node005')).length, callsBefore, 'nothing ran on node005');

    // The whole control plane gone (a cluster torn down): destroy through the remembered control
    // nodes warns and goes on; control nodes named on the command line must answer.
    await sandbox.stopHost('node002');
    await sandbox.stopHost('node003');
    const named = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'node006', '--ctrl-nodes', nodes, '--batch'], { env });
    assert.equal(named.code, 1, named.stderr);
    assert.match(named.stderr, /no control node could be reached over SSH/);
    const remembered = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'node006', '--batch'], { env });
    assert.equal(remembered.code, 0, remembered.stderr);
    assert.match(remembered.stderr, /control nodes node001, node002, node003 not reachable: the nodes are not unregistered from etcd/);
  });
});
