import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { JsonlAuditLog } from '../src/adapters/jsonl-audit-log.js';
import { parseNixFile } from '../src/adapters/nix-parse.js';
import { NodeProjectFiles } from '../src/adapters/project-files.js';
import { SelfHostedProvider } from '../src/adapters/providers/self-hosted.js';
import { Ssh2Connector } from '../src/adapters/ssh/ssh2-connector.js';
import { NodeLocalFiles } from '../src/adapters/node-local-files.js';
import { NodeWorkspace } from '../src/adapters/node-workspace.js';
import { loadServersFile } from '../src/config/load-servers.js';
import { isGranted, parseGrants, type Grant } from '../src/core/mcp/permissions.js';
import { fixedProbes, journalSteps, unitStatusSteps } from '../src/core/mcp/probes.js';
import { checkProjectPath, CONFIG_FOLDERS } from '../src/core/mcp/project-paths.js';
import { selectTargets } from '../src/core/selectors/select-targets.js';
import { isInSync } from '../src/core/status/compartments.js';
import { nodeStatus } from '../src/core/status/node-status.js';
import { journalSinceArgument, journalSinceProblem, unitNameProblem } from '../src/domain/probe-inputs.js';
import type { McpDeps } from '../src/mcp/deps.js';
import { createMcpServer } from '../src/mcp/server.js';
import { runCli } from './support/cli.js';
import { fixture, repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

describe('MCP input rules (pure)', () => {
  it('accepts real unit names and refuses everything that could be a flag, a path or shell text', () => {
    for (const ok of ['nginx', 'nginx.service', 'etcd.service', 'getty@tty1.service', 'sys-kernel-debug.mount', 'a_b:c.timer']) {
      assert.equal(unitNameProblem(ok), undefined, ok);
    }
    for (const bad of ['', '-f', '--root=/', '.hidden', 'a..b', 'x;y', 'x y', 'x\ny', 'x.evil', 'a/b', '$(x)', 'a'.repeat(300)]) {
      assert.notEqual(unitNameProblem(bad), undefined, JSON.stringify(bad));
    }
  });

  it('reads journal start times only in the documented shapes, and makes relative ones relative', () => {
    for (const ok of ['1h', '30 min', '2 days ago', '-15m', '2026-12-01', '2026-12-01 10:00', 'today']) assert.equal(journalSinceProblem(ok), undefined, ok);
    for (const bad of ['-f', '--follow', '1h;id', 'now\n-f', '2026-12-01T10:00', '1 fortnight']) assert.notEqual(journalSinceProblem(bad), undefined, bad);
    assert.equal(journalSinceArgument('1h'), '-1h');
    assert.equal(journalSinceArgument('2 days ago'), '2 days ago');
    assert.equal(journalSinceArgument('2026-12-01'), '2026-12-01');
  });

  it('builds each probe as an exact argv, options fused with their values', () => {
    assert.deepEqual(unitStatusSteps('nginx'), [{ label: 'status', argv: ['systemctl', 'status', '--no-pager', '--lines=20', '--', 'nginx.service'] }]);
    assert.deepEqual(journalSteps({ unit: 'etcd.service', since: '2h', priority: 'err', lines: 50 })[0]?.argv, [
      'journalctl', '--no-pager', '--output=short-iso', '--unit=etcd.service', '--since=-2h', '--priority=err', '--lines=50',
    ]);
    assert.deepEqual(journalSteps({ unit: 'x' })[0]?.argv.slice(3), ['--unit=x.service', '--since=-1h', '--priority=info', '--lines=200']);
    assert.deepEqual(fixedProbes['failed-units'], [{ label: 'failed', argv: ['systemctl', '--failed', '--no-pager', '--plain'] }]);
  });

  it('confines project paths to the configuration folders', () => {
    assert.deepEqual(checkProjectPath('nodes/node001.nix', CONFIG_FOLDERS), { ok: true, folder: 'nodes', segments: ['nodes', 'node001.nix'] });
    assert.deepEqual(checkProjectPath('app_modules/web/', CONFIG_FOLDERS), { ok: true, folder: 'app_modules', segments: ['app_modules', 'web'] });
    for (const bad of ['', '/etc/passwd', '../x', 'nodes/../secrets/a', 'secrets/a', '.env', 'nodes/.x', 'nodes//a', 'nodes\\a', 'nodes/a\0b', '~/x', 'C:/x']) {
      assert.equal(checkProjectPath(bad, CONFIG_FOLDERS).ok, false, JSON.stringify(bad));
    }
  });

  it('grants writes per tier; "all" never reaches a protected tier', () => {
    const grants = parseGrants(['restart-unit:test', 'restart-unit:all']);
    assert.deepEqual(grants, [{ action: 'restart-unit', scope: 'test' }, { action: 'restart-unit', scope: 'all' }]);
    assert.equal(isGranted(grants, 'restart-unit', 'test', ['prod']), true);
    assert.equal(isGranted(grants, 'restart-unit', 'staging', ['prod']), true);
    assert.equal(isGranted(grants, 'restart-unit', 'prod', ['prod']), false);
    assert.equal(isGranted(parseGrants(['restart-unit:prod']), 'restart-unit', 'prod', ['prod']), true);
    const testOnly = parseGrants(['restart-unit:test']);
    assert.equal(isGranted(testOnly, 'restart-unit', undefined, ['prod']), false);
    assert.equal(isGranted(testOnly, 'restart-unit', 'prod', ['prod']), false);
    for (const bad of ['deploy', 'restart-unit', 'restart-unit:', 'restart-unit:Prod', 'reboot:test', 'restart-unit:test:x']) {
      assert.throws(() => parseGrants([bad]), /--allow/, bad);
    }
  });
});

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

interface InjectionCase {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly why: string;
  readonly server: 'read' | 'dev' | 'allow-test';
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('MCP server on sandbox hosts', { skip, timeout: 240_000 }, () => {
  it('serves a 2-host project', async (outer) => {
  let dir = '';
  let sandbox: Sandbox;
  const connectors: Ssh2Connector[] = [];

  async function connectClient(t: TestContext, options: { grants?: Grant[]; dev?: boolean; timeoutMs?: number; maxBytes?: number } = {}): Promise<Client> {
    const inventory = await loadServersFile(dir);
    const provider = new SelfHostedProvider(inventory);
    const connector = new Ssh2Connector({
      knownHostsFile: path.join(dir, 'ssh', 'known_hosts'),
      connectTimeoutMs: 5000,
      maxHandshakes: 4,
      acceptChangedKeyFor: new Set(),
      agentSocket: undefined,
      refuseFirstContact: true,
    });
    connectors.push(connector);
    const deps: McpDeps = {
      version: 'test',
      listServers: () => provider.listServers(),
      connector,
      defaultKeyPath: undefined,
      files: new NodeProjectFiles(dir),
      audit: new JsonlAuditLog(dir),
      operator: 'tester@test',
      grants: options.grants ?? [],
      protectedTiers: ['prod'],
      dev: options.dev ?? false,
      limits: { timeoutMs: options.timeoutMs ?? 20_000, maxBytes: options.maxBytes ?? 64 * 1024 },
      parseNix: parseNixFile,
      now: () => new Date(),
      // The fleet-mode status pass, as the composition root builds it from runStatus (the stdio
      // case below runs that one), here on this client's own connector.
      status: async (values) => {
        const servers = await provider.listServers();
        const { targets } = selectTargets(servers, values, undefined, undefined);
        const statuses = await nodeStatus(
          { connector, reporter: { emit: () => undefined }, now: () => new Date(), project: new NodeWorkspace(dir), local: new NodeLocalFiles(dir) },
          { mode: 'fleet', targets, nodes: new Map(servers.map((s) => [s.name, { ipv4: s.address }])), trustedPublicKeys: [], concurrency: 2 },
        );
        return statuses.map((s) => ({ ...s, inSync: isInSync(s) }));
      },
    };
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createMcpServer(deps);
    await server.connect(serverSide);
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(clientSide);
    t.after(async () => {
      await client.close();
      await server.close();
    });
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  }

  {
    dir = await tempDir(outer, 'nix-infra-mcp-');
    sandbox = await startSandbox(outer, { hosts: 2, project: dir });
    await mkdir(path.join(dir, 'nodes'), { recursive: true });
    await mkdir(path.join(dir, 'app_modules', 'web'), { recursive: true });
    await mkdir(path.join(dir, '__test__'), { recursive: true });
    await mkdir(path.join(dir, 'secrets'), { recursive: true });
    await writeFile(path.join(dir, 'nodes', 'node001.nix'), '{ config, ... }: { networking.hostName = "node001"; }\n');
    await writeFile(path.join(dir, 'app_modules', 'web', 'default.nix'), '{ ... }: { }\n');
    await writeFile(path.join(dir, 'secrets', 'app'), 'CANARY-SECRET-VALUE\n');
    await writeFile(path.join(dir, '.env'), 'SECRETS_PASS=CANARY-ENV-VALUE\n');
    await symlink('../secrets/app', path.join(dir, 'nodes', 'link-out.nix'));
    await symlink('/etc/passwd', path.join(dir, 'nodes', 'link-etc'));
    await symlink('/etc', path.join(dir, 'nodes', 'linkdir'));
    await symlink('/tmp', path.join(dir, 'app_modules', 'linkdir'));
    await symlink('../nodes/node001.nix', path.join(dir, 'app_modules', 'link-out.nix'));
  }
  outer.after(async () => {
    for (const connector of connectors) await connector.closeAll();
  });

  await outer.test('refuses a host whose key was never pinned, then reaches it once the CLI pinned it', async (t: TestContext) => {
    const client = await connectClient(t);
    const refused = await call(client, 'probe', { node: 'node001', probe: 'uptime' });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /no pinned host key/);
    // node_status reports such a host as unreachable, and says why.
    const unpinned = await call(client, 'node_status', { selector: 'node001' });
    assert.equal(unpinned.isError, true);
    const unpinnedHosts = (unpinned.structuredContent as { hosts: Array<{ host: string; reachable: boolean; error: string }> }).hosts;
    assert.deepEqual(unpinnedHosts.map((h) => [h.host, h.reachable]), [['node001', false]]);
    assert.match(unpinnedHosts[0]?.error ?? '', /no pinned host key/);
    await assert.rejects(stat(path.join(dir, 'ssh', 'known_hosts')));

    const pinned = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001,node002', 'true']);
    assert.equal(pinned.code, 0, pinned.stderr);
    const ok = await call(client, 'probe', { node: 'node001', probe: 'nixos-version' });
    assert.equal(ok.isError, undefined, text(ok));
    const structured = ok.structuredContent as { node: string; ok: boolean; untrusted: boolean; steps: Array<{ label: string; exitCode: number; output: string }> };
    assert.equal(structured.untrusted, true);
    assert.deepEqual(JSON.parse(structured.steps[0]?.output ?? ''), { nixosVersion: '25.05.20250101.abcdef', nixpkgsRevision: 'abcdef0123456789abcdef0123456789abcdef01' });
    assert.match(text(ok), /untrusted data from the host/);
  });

  await outer.test('lists tools per permission set: no write tool without --allow, dev tools only with --dev', async (t: TestContext) => {
    const names = async (options: Parameters<typeof connectClient>[1]): Promise<string[]> =>
      (await (await connectClient(t, options)).listTools()).tools.map((tool) => tool.name).sort();
    const readTools = ['audit_trail', 'config_list_files', 'config_read_file', 'journal', 'list_nodes', 'node_status', 'probe', 'unit_status'];
    assert.deepEqual(await names({}), readTools);
    assert.deepEqual(await names({ dev: true }), [...readTools, 'dev_check_nix', 'dev_list_files', 'dev_read_file', 'dev_write_file'].sort());
    assert.deepEqual(await names({ grants: parseGrants(['restart-unit:test']) }), [...readTools, 'restart_unit'].sort());
  });

  await outer.test('runs every read tool with exact results', async (t: TestContext) => {
    const client = await connectClient(t);
    const nodes = await call(client, 'list_nodes', {});
    assert.deepEqual((nodes.structuredContent as { nodes: unknown[] }).nodes, [
      { name: 'node001', address: sandbox.hosts[0]?.ip, provider: 'self-hosted', tags: [] },
      { name: 'node002', address: sandbox.hosts[1]?.ip, provider: 'self-hosted', tags: [] },
    ]);

    const before = (await sandbox.calls('node002')).length;
    const status = await call(client, 'unit_status', { node: 'node002', unit: 'nginx' });
    assert.equal(status.isError, undefined, text(status));
    // The unit arrived as one argument after "--", exactly as built.
    assert.deepEqual((await sandbox.calls('node002')).slice(before), [['systemctl', 'status', '--no-pager', '--lines=20', '--', 'nginx.service']]);

    const journal = await call(client, 'journal', { node: 'node001', unit: 'sshd', since: '10 min', lines: 5 });
    const steps = (journal.structuredContent as { steps: Array<{ label: string }> }).steps;
    assert.deepEqual(steps.map((s) => s.label), ['journal']);

    const stats = await call(client, 'probe', { node: 'node001', probe: 'system-stats' });
    assert.equal(stats.isError, undefined, text(stats));
    const statSteps = (stats.structuredContent as { steps: Array<{ label: string; output: string }> }).steps;
    assert.deepEqual(statSteps.map((s) => s.label), ['load', 'memory', 'disk', 'processes']);
    assert.match(statSteps[0]?.output ?? '', /^\d+\.\d+ \d+\.\d+ \d+\.\d+ /);
    assert.ok((statSteps[3]?.output.split('\n').length ?? 0) <= 27);

    const listed = await call(client, 'config_list_files', { path: 'nodes' });
    // Links that leave nodes/ are left out of the listing.
    assert.deepEqual((listed.structuredContent as { entries: Array<{ path: string }> }).entries.map((e) => e.path), ['nodes/node001.nix']);
    const read = await call(client, 'config_read_file', { path: 'nodes/node001.nix' });
    assert.equal((read.structuredContent as { content: string }).content, '{ config, ... }: { networking.hostName = "node001"; }\n');
  });

  await outer.test('node_status: the status compartments of both hosts, changing nothing', async (t: TestContext) => {
    const client = await connectClient(t);
    const before = await Promise.all(sandbox.hosts.map((h) => sandbox.calls(h.name)));
    const result = await call(client, 'node_status', {});
    assert.equal(result.isError, undefined, text(result));
    const { hosts, untrusted } = result.structuredContent as { hosts: Array<Record<string, unknown>>; untrusted: boolean };
    assert.equal(untrusted, true);
    assert.deepEqual(hosts.map((h) => [h.host, h.reachable, h.nixosVersion, h.drift, h.outOfBand, h.pendingBoot, h.rebootNeeded, h.failedUnits, h.lastDeploy, h.inSync]), [
      ['node001', true, '25.05.20250101.abcdef', { kind: 'never-deployed' }, { kind: 'unknown', reason: 'no rebuild recorded' }, { pending: false }, false, [], undefined, false],
      ['node002', true, '25.05.20250101.abcdef', { kind: 'never-deployed' }, { kind: 'unknown', reason: 'no rebuild recorded' }, { pending: false }, false, [], undefined, false],
    ]);
    assert.match(text(result), /node=node002 step=status \(reachable\); untrusted data from the host/);
    // Read-only: no stand-in that changes a host (restart, stop, switch, rebuild) was called.
    for (const [index, host] of sandbox.hosts.entries()) {
      const calls = (await sandbox.calls(host.name)).slice(before[index]?.length ?? 0);
      assert.deepEqual(calls.filter((argv) => argv.some((a) => /^(stop|restart|start|switch|boot|reboot)$|switch-to-configuration|nixos-rebuild/.test(a))), [], host.name);
    }
    const one = await call(client, 'node_status', { selector: 'node002' });
    assert.deepEqual((one.structuredContent as { hosts: Array<{ host: string }> }).hosts.map((h) => h.host), ['node002']);
    const bad = await call(client, 'node_status', { selector: 'nosuchnode' });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /^refused: .*nosuchnode/);
  });

  await outer.test('audit_trail: the newest records, newest first, with the exact commands and arguments', async (t: TestContext) => {
    const client = await connectClient(t);
    await call(client, 'list_nodes', { selector: 'node001' });
    await call(client, 'probe', { node: 'node002', probe: 'uptime' });
    const trail = await call(client, 'audit_trail', { limit: 2 });
    assert.equal(trail.isError, undefined, text(trail));
    const records = (trail.structuredContent as { records: Array<Record<string, unknown>> }).records;
    assert.deepEqual(records.map((r) => [r.command, r.source, r.who, r.result, r.nodes, r.selector, r.arguments]), [
      ['mcp probe', 'mcp', 'tester@test', 'ok', ['node002'], ['node002'], { node: 'node002', probe: 'uptime' }],
      ['mcp list_nodes', 'mcp', 'tester@test', 'ok', ['node001'], ['node001'], { selector: 'node001' }],
    ]);
    assert.match(text(trail).split('\n')[0] ?? '', / tester@test mcp probe \{"node":"node002","probe":"uptime"\} -> ok on node002$/);

    // The audit_trail call itself is recorded; a node filter keeps only records that reached or named it.
    const byNode = await call(client, 'audit_trail', { node: 'node001', limit: 500 });
    const nodeRecords = (byNode.structuredContent as { records: Array<{ command: string; nodes: string[]; selector: string[]; arguments?: unknown }> }).records;
    assert.deepEqual(nodeRecords[0], { ...nodeRecords[0], command: 'mcp list_nodes', arguments: { selector: 'node001' } });
    assert.ok(nodeRecords.every((r) => r.nodes.includes('node001') || r.selector.includes('node001')), JSON.stringify(nodeRecords));
    // The CLI run that pinned the keys reached node001 too.
    assert.ok(nodeRecords.some((r) => r.command === 'nix-infra fleet cmd'), JSON.stringify(nodeRecords.map((r) => r.command)));
    // The probe of node002 above is not about node001.
    assert.ok(!nodeRecords.some((r) => r.command === 'mcp probe' && (r.arguments as { node?: string }).node === 'node002'));
    const last = await call(client, 'audit_trail', { limit: 1 });
    assert.deepEqual((last.structuredContent as { records: Array<{ command: string; arguments: unknown }> }).records.map((r) => [r.command, r.arguments]), [
      ['mcp audit_trail', { node: 'node001', limit: 500 }],
    ]);
    const refused = await call(client, 'audit_trail', { limit: 501 });
    assert.equal(refused.isError, true);
  });

  await outer.test('refuses or neutralises every input of the injection corpus; nothing runs on any host', async (t: TestContext) => {
    const corpus = JSON.parse(await readFile(fixture('mcp', 'injection.json'), 'utf8')) as { cases: InjectionCase[] };
    assert.ok(corpus.cases.length >= 60, `${corpus.cases.length} cases`);
    const clients = {
      read: await connectClient(t),
      dev: await connectClient(t, { dev: true }),
      'allow-test': await connectClient(t, { grants: parseGrants(['restart-unit:test']) }),
    };
    const callsBefore = await Promise.all(sandbox.hosts.map((h) => sandbox.calls(h.name)));
    const modulesBefore = await readFile(path.join(dir, 'nodes', 'node001.nix'), 'utf8');
    for (const testCase of corpus.cases) {
      let result: CallToolResult;
      try {
        result = await call(clients[testCase.server], testCase.tool, testCase.args);
      } catch (err) {
        // An unknown tool is a protocol error: refused just as well.
        assert.match((err as Error).message, /not found|Tool .* not found|-32602/i, testCase.why);
        continue;
      }
      assert.equal(result.isError, true, `${testCase.why}: ${text(result).slice(0, 200)}`);
      assert.doesNotMatch(text(result), /CANARY-(SECRET|ENV)-VALUE/, testCase.why);
    }
    // No canary on any host nor here; no stand-in was called with any of those inputs.
    for (const [index, host] of sandbox.hosts.entries()) {
      const found = await sandbox.exec(host.name, ['sh', '-c', 'ls /tmp | grep pwned || true']);
      assert.equal(found.stdout.trim(), '', `${host.name}: ${found.stdout}`);
      assert.deepEqual(await sandbox.calls(host.name), callsBefore[index], host.name);
    }
    for (const local of ['/tmp/pwned-dev', '/tmp/pwned-x', '/tmp/evil.nix']) await assert.rejects(stat(local), local);
    assert.equal(await readFile(path.join(dir, 'nodes', 'node001.nix'), 'utf8'), modulesBefore);
    await assert.rejects(stat(path.join(dir, 'nodes', 'x.nix')));
  });

  await outer.test('times out a hanging host and caps a flood of output, and the server keeps answering', async (t: TestContext) => {
    const client = await connectClient(t, { timeoutMs: 2000, maxBytes: 4096 });
    const hook = async (script: string): Promise<void> => {
      const file = '/etc/nix-infra-sandbox/nixos-version.hook';
      await sandbox.exec('node001', ['sh', '-c', `mkdir -p /etc/nix-infra-sandbox && cat > ${file} && chmod +x ${file}`], `#!/bin/sh\n${script}\n`);
    };
    await hook('sleep 30');
    const hung = await call(client, 'probe', { node: 'node001', probe: 'nixos-version' });
    assert.equal(hung.isError, true);
    assert.match(text(hung), /timed out after 2 s/);
    await hook("head -c 10000000 /dev/zero | tr '\\0' a");
    const flood = await call(client, 'probe', { node: 'node001', probe: 'nixos-version' });
    const step = (flood.structuredContent as { steps: Array<{ truncated: boolean; output: string }> }).steps[0];
    assert.equal(step?.truncated, true);
    assert.equal(step?.output.length, 4096);
    await sandbox.exec('node001', ['rm', '-f', '/etc/nix-infra-sandbox/nixos-version.hook']);
    const after = await call(client, 'probe', { node: 'node002', probe: 'uptime' });
    assert.equal(after.isError, undefined, text(after));
  });

  await outer.test('dev tools write inside app_modules/ atomically and parse-check Nix', async (t: TestContext) => {
    const client = await connectClient(t, { dev: true });
    const good = await call(client, 'dev_write_file', { path: 'app_modules/api/default.nix', content: '{ pkgs, ... }: { environment.systemPackages = [ pkgs.hello ]; }\n' });
    assert.equal(good.isError, undefined, text(good));
    assert.deepEqual((good.structuredContent as { nixParse: unknown }).nixParse, { ok: true, output: '' });
    assert.equal((await stat(path.join(dir, 'app_modules', 'api', 'default.nix'))).mode & 0o777, 0o644);
    await call(client, 'dev_write_file', { path: 'app_modules/api/broken.nix', content: '{ pkgs, ... }: { oops = ; }\n' });
    const checked = await call(client, 'dev_check_nix', { path: 'app_modules/api/broken.nix' });
    assert.equal(checked.isError, true);
    assert.match(text(checked), /does not parse/);
  });

  await outer.test('a write tool reaches only the tiers it was granted, and every call is one audit line', async (t: TestContext) => {
    const testOnly = await connectClient(t, { grants: parseGrants(['restart-unit:test']) });
    const refused = await call(testOnly, 'restart_unit', { node: 'node002', unit: 'nginx' });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /node002 is in no tier; this server may restart units only on: test/);
    const anyTier = await connectClient(t, { grants: parseGrants(['restart-unit:all']) });
    const before = (await sandbox.calls('node002')).length;
    const restarted = await call(anyTier, 'restart_unit', { node: 'node002', unit: 'nginx' });
    assert.equal(restarted.isError, undefined, text(restarted));
    assert.deepEqual((await sandbox.calls('node002')).slice(before), [['systemctl', 'restart', '--', 'nginx.service']]);

    // With tiers in servers.yaml: a test-tier grant reaches test nodes only; "all" never reaches prod.
    const yamlPath = path.join(dir, 'servers.yaml');
    const original = await readFile(yamlPath, 'utf8');
    const tiered = original.replace(/^(  node001:\n)/m, '$1    tier: test\n    role: web\n').replace(/^(  node002:\n)/m, '$1    tier: prod\n');
    assert.notEqual(tiered, original);
    await writeFile(yamlPath, tiered);
    const tierClient = await connectClient(t, { grants: parseGrants(['restart-unit:test', 'restart-unit:all']) });
    const selected = await call(tierClient, 'list_nodes', { selector: 'tier:test+role:web' });
    assert.deepEqual((selected.structuredContent as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name), ['node001']);
    const onTest = await call(tierClient, 'restart_unit', { node: 'node001', unit: 'nginx' });
    assert.equal(onTest.isError, undefined, text(onTest));
    const onProd = await call(tierClient, 'restart_unit', { node: 'node002', unit: 'nginx' });
    assert.equal(onProd.isError, true);
    assert.match(text(onProd), /node002 is in tier prod; this server may restart units only on: test, all/);
    await writeFile(yamlPath, original);

    const lines = (await readFile(path.join(dir, '.nix-infra', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const restarts = lines.filter((l) => l.command === 'mcp restart_unit');
    assert.deepEqual(restarts.slice(-4).map((l) => [l.result, l.nodes, l.arguments]), [
      ['refused', [], { node: 'node002', unit: 'nginx' }],
      ['ok', ['node002'], { node: 'node002', unit: 'nginx' }],
      ['ok', ['node001'], { node: 'node001', unit: 'nginx' }],
      ['refused', [], { node: 'node002', unit: 'nginx' }],
    ]);
    assert.equal((await stat(path.join(dir, '.nix-infra', 'audit.jsonl'))).mode & 0o777, 0o600);
    const all = await readFile(path.join(dir, '.nix-infra', 'audit.jsonl'), 'utf8');
    assert.doesNotMatch(all, /CANARY-(SECRET|ENV)-VALUE/);
    // The big dev write is recorded by size and digest, not content.
    assert.doesNotMatch(all, /x{300}/);
  });

  await outer.test('serves over real stdio as `nix-infra mcp`, stdout carrying only the protocol', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(repoRoot, 'bin', 'run.js'), 'mcp', '-d', dir],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(!tools.includes('restart_unit') && tools.includes('probe'), tools.join(','));
      const uptime = (await client.callTool({ name: 'probe', arguments: { node: 'node002', probe: 'uptime' } })) as CallToolResult;
      assert.equal(uptime.isError, undefined, text(uptime));
      assert.match(text(uptime), /load average/);
      const status = (await client.callTool({ name: 'node_status', arguments: {} })) as CallToolResult;
      assert.equal(status.isError, undefined, text(status));
      const hosts = (status.structuredContent as { hosts: Array<{ host: string; reachable: boolean; drift: unknown }> }).hosts;
      assert.deepEqual(hosts.map((h) => [h.host, h.reachable, h.drift]), [
        ['node001', true, { kind: 'never-deployed' }],
        ['node002', true, { kind: 'never-deployed' }],
      ]);
    } finally {
      await client.close();
    }
  });
});
});
