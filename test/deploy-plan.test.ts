// The deploy plan (src/core/deploy/): the placeholder engine with its per-file forms and errors,
// the file contract of a node (upstream-templates §1.1) built from a fixture project, and the
// stale app-module computation with its refusal to leave /etc/nixos/app_modules.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { NodeWorkspace } from '../src/adapters/node-workspace.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import { buildDeployPlan, staleAppModuleFiles, type DeployPlan, type DeployPlanParams } from '../src/core/deploy/plan.js';
import {
  renderTrustedPublicKeys,
  substituteDeployFile,
  substituteDeployText,
  substituteSecretValue,
  type NodeAddresses,
  type PlaceholderContext,
  type PlaceholderValues,
} from '../src/core/deploy/placeholders.js';
import { substitutePlaceholders } from '../src/core/placeholders.js';
import { tempDir } from './support/repo.js';

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm3qX3vGnQ0v1mJ4bY9qk2N8cYpXr0sT5uV6wZ7aB8c ops@example.com';
const KEY1 = 'cache.example.org-1:aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y';
const KEY2 = 'cache2.example.org-1:Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9v';
const MEMBERS = '{ name = "etcd001"; ip = "203.0.113.10"; } { name = "etcd002"; ip = "203.0.113.11"; }';

const NODES = new Map<string, NodeAddresses>([
  ['etcd001', { ipv4: '203.0.113.10' }],
  ['web1', { ipv4: '203.0.113.1', overlayIp: '10.10.1.0' }],
  ['db1', { ipv4: '203.0.113.2', overlayIp: '10.10.2.0' }],
  ['fresh1', { ipv4: '203.0.113.3' }],
  ['private1', {}],
]);

function values(overrides: Partial<PlaceholderValues> = {}): PlaceholderValues {
  return {
    mode: 'cluster',
    nodeName: 'web1',
    nixVersion: '25.05',
    sshKey: SSH_KEY,
    hwArch: 'x86_64-linux',
    etcdCluster: MEMBERS,
    etcdClusterToken: 'token-1',
    nodes: NODES,
    localhost: { name: 'web1', ipv4: '203.0.113.1', overlayIp: '10.10.1.0' },
    trustedPublicKeys: [KEY1, KEY2],
    ...overrides,
  };
}

function render(text: string, context: PlaceholderContext, overrides: Partial<PlaceholderValues> = {}, source = 'some/file.nix'): string {
  return substituteDeployText(text, context, values(overrides), source).content;
}

/** Asserts a UserError whose message matches, and returns it for more checks. */
function userError(fn: () => unknown, message: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${inspect(caught)}`);
  assert.match(caught.message, message);
  return caught;
}

async function userErrorAsync(fn: () => Promise<unknown>, message: RegExp): Promise<UserError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${inspect(caught)}`);
  assert.match(caught.message, message);
  return caught;
}

describe('deploy placeholders: each form', () => {
  it('nodeName', () => {
    assert.equal(render('networking.hostName = "[%%nodeName%%]";', 'configuration.nix'), 'networking.hostName = "web1";');
  });

  it('nixVersion', () => {
    assert.equal(render('url = "github:NixOS/nixpkgs/nixos-[%%nixVersion%%]";', 'flake.nix'), 'url = "github:NixOS/nixpkgs/nixos-25.05";');
  });

  it('sshKey', () => {
    assert.equal(render('keys = [ "[%%sshKey%%]" ];', 'configuration.nix'), `keys = [ "${SSH_KEY}" ];`);
  });

  it('hwArch', () => {
    assert.equal(render('system = "[%%hwArch%%]";', 'flake.nix'), 'system = "x86_64-linux";');
  });

  it('etcdCluster in a cluster node type', () => {
    assert.equal(render("members = ''[%%etcdCluster%%]'';", 'node-type'), `members = ''${MEMBERS}'';`);
  });

  it('etcdClusterToken in the control node type', () => {
    assert.equal(
      render('token = "[%%etcdClusterToken%%]"; m = \'\'[%%etcdCluster%%]\'\';', 'control-node-type'),
      `token = "token-1"; m = ''${MEMBERS}'';`,
    );
  });

  it('<node>.ipv4', () => {
    assert.equal(render('db = "[%%db1.ipv4%%]"; etcd = "[%%etcd001.ipv4%%]";', 'node-file'), 'db = "203.0.113.2"; etcd = "203.0.113.10";');
  });

  it('<node>.overlayIp', () => {
    assert.equal(render('db = "[%%db1.overlayIp%%]";', 'node-file'), 'db = "10.10.2.0";');
  });

  it('localhost.hostname, localhost.ipv4, localhost.overlayIp', () => {
    assert.equal(
      render('[%%localhost.hostname%%] [%%localhost.ipv4%%] [%%localhost.overlayIp%%]', 'node-file'),
      'web1 203.0.113.1 10.10.1.0',
    );
  });

  it('secrets/<name> is replaced by the name and collected', () => {
    const result = substituteDeployText('a = "[%%secrets/db.url%%]";\nb = "[%%secrets/api-key%%]";', 'node-file', values(), 'nodes/web1.nix');
    assert.equal(result.content, 'a = "db.url";\nb = "api-key";');
    assert.deepEqual(result.secrets, ['api-key', 'db.url']);
    assert.deepEqual(result.preBuildSecrets, []);
  });

  it('pre-build-secrets/<name> is collected in both lists', () => {
    const result = substituteDeployText('nix.settings.netrc-file = "/run/keys/[%%pre-build-secrets/github-netrc%%]";', 'node-file', values(), 'nodes/web1.nix');
    assert.equal(result.content, 'nix.settings.netrc-file = "/run/keys/github-netrc";');
    assert.deepEqual(result.secrets, ['github-netrc']);
    assert.deepEqual(result.preBuildSecrets, ['github-netrc']);
  });

  it('collected names are unique and sorted', () => {
    const text = '[%%secrets/zeta%%] [%%secrets/alpha%%] [%%secrets/zeta%%] [%%pre-build-secrets/mid%%] [%%secrets/mid%%] [%%pre-build-secrets/mid%%]';
    const result = substituteDeployText(text, 'node-file', values(), 'nodes/web1.nix');
    assert.deepEqual(result.secrets, ['alpha', 'mid', 'zeta']);
    assert.deepEqual(result.preBuildSecrets, ['mid']);
    assert.equal(result.content, 'zeta alpha zeta mid mid mid');
  });

  it('nix-store.trusted-public-keys renders a Nix list of strings', () => {
    assert.equal(render('k = [%%nix-store.trusted-public-keys%%];', 'node-file'), `k = [ "${KEY1}" "${KEY2}" ];`);
    assert.equal(render('k = [%%nix-store.trusted-public-keys%%];', 'node-file', { trustedPublicKeys: [] }), 'k = [ ];');
    assert.equal(renderTrustedPublicKeys([`${KEY1}\n`]), `[ "${KEY1}" ]`);
  });

  it('a text without placeholders comes back unchanged', () => {
    assert.equal(render('{ ... }: { [ % %] [%% }', 'node-file'), '{ ... }: { [ % %] [%% }');
  });
});

describe('deploy placeholders: errors name the file and line', () => {
  it('an unknown key', () => {
    const error = userError(() => render('a\nb\nc = "[%%nodename%%]";', 'configuration.nix', {}, 'configuration.nix'), /^configuration\.nix:3: unknown placeholder \[%%nodename%%\]$/);
    assert.ok(error.hints.some((h) => h.includes('[%%nodeName%%]')), 'the hint lists the forms of this file');
  });

  it('an unknown node', () => {
    userError(() => render('x\n[%%db9.ipv4%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:2: \[%%db9\.ipv4%%\]: no server named "db9"$/);
  });

  it('a server without a public IPv4', () => {
    userError(() => render('[%%private1.ipv4%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%private1\.ipv4%%\]: server private1 has no public IPv4 address$/);
  });

  it('a missing overlay IP of another node (no literal fallback)', () => {
    userError(() => render('\n\n\n[%%fresh1.overlayIp%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:4: \[%%fresh1\.overlayIp%%\]: no overlay IP known for fresh1$/);
  });

  it('a missing overlay IP of the node itself (upstream wrote "-- overlayIp not found in etcd --")', () => {
    const error = userError(
      () => render('a\n[%%localhost.overlayIp%%]', 'node-file', { localhost: { name: 'fresh1', ipv4: '203.0.113.3' } }, 'nodes/fresh1.nix'),
      /^nodes\/fresh1\.nix:2: \[%%localhost\.overlayIp%%\]: no overlay IP known for fresh1$/,
    );
    assert.doesNotMatch(`${error.message} ${error.hints.join(' ')}`, /not found in etcd/);
  });

  it('overlay IPs in fleet mode', () => {
    userError(() => render('[%%db1.overlayIp%%]', 'node-file', { mode: 'fleet' }, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%db1\.overlayIp%%\]: overlay IPs exist only in cluster mode$/);
    userError(() => render('\n[%%localhost.overlayIp%%]', 'node-file', { mode: 'fleet' }, 'nodes/web1.nix'), /^nodes\/web1\.nix:2: \[%%localhost\.overlayIp%%\]: overlay IPs exist only in cluster mode$/);
  });

  it('etcdCluster in a fleet node type', () => {
    userError(
      () => render("\nm = ''[%%etcdCluster%%]'';", 'node-type', { mode: 'fleet' }, 'node_types/standalone_machine.nix'),
      /^node_types\/standalone_machine\.nix:2: \[%%etcdCluster%%\] is not filled in node_types\/standalone_machine\.nix/,
    );
  });

  it('etcdClusterToken outside the control node type', () => {
    userError(() => render('[%%etcdClusterToken%%]', 'node-type', {}, 'node_types/cluster_node.nix'), /^node_types\/cluster_node\.nix:1: \[%%etcdClusterToken%%\] is not filled in/);
  });

  it('a system key in a node file, with a hint for the node name', () => {
    userError(() => render('[%%sshKey%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%sshKey%%\] is not filled in nodes\/web1\.nix \(only in configuration\.nix, flake\.nix and node types\)$/);
    const error = userError(() => render('[%%nodeName%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%nodeName%%\] is not filled in/);
    assert.ok(error.hints.some((h) => h.includes('[%%localhost.hostname%%]')));
  });

  it('node addresses and secrets in configuration.nix', () => {
    userError(() => render('[%%db1.ipv4%%]', 'configuration.nix', {}, 'configuration.nix'), /^configuration\.nix:1: \[%%db1\.ipv4%%\] is not filled in configuration\.nix/);
    userError(() => render('[%%secrets/x%%]', 'flake.nix', {}, 'flake.nix'), /^flake\.nix:1: \[%%secrets\/x%%\] is not filled in flake\.nix/);
  });

  for (const [key, problem] of [
    ['secrets/../etc/passwd', /may not contain "\/"/],
    ['secrets/a/b', /may not contain "\/"/],
    ['secrets/..', /may not contain "\.\."/],
    ['secrets/a..b', /may not contain "\.\."/],
    ['secrets/', /cannot be empty/],
    ['secrets/.hidden', /may not start with "\."/],
    ['secrets/bad name', /may only contain/],
    ['pre-build-secrets/../x', /may not contain "\/"/],
  ] as const) {
    it(`an invalid secret name: [%%${key}%%]`, () => {
      const escaped = key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const error = userError(() => render(`x\ny\n"[%%${key}%%]"`, 'node-file', {}, 'nodes/web1.nix'), new RegExp(`^nodes/web1\\.nix:3: \\[%%${escaped}%%\\]: `));
      assert.match(error.message, problem);
    });
  }

  it('an invalid trusted public key (its value is not shown)', () => {
    const error = userError(
      () => render('\nk = [%%nix-store.trusted-public-keys%%];', 'node-file', { trustedPublicKeys: [KEY1, 'SECRETKEY" ]; evil'] }, 'nodes/web1.nix'),
      /^nodes\/web1\.nix:2: \[%%nix-store\.trusted-public-keys%%\]: trusted public key #2 is not of the form <name>:<base64>/,
    );
    assert.doesNotMatch(`${error.message} ${error.hints.join(' ')}`, /SECRETKEY/);
  });

  it('every problem of a file is reported at once', () => {
    const error = userError(() => render('[%%a%%]\n[%%b%%]\n[%%db1.ipv4%%]\n[%%c%%]', 'node-file', {}, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: unknown placeholder \[%%a%%\] \(and 2 more\)$/);
    assert.ok(error.hints.includes('nodes/web1.nix:2: unknown placeholder [%%b%%]'));
    assert.ok(error.hints.includes('nodes/web1.nix:4: unknown placeholder [%%c%%]'));
  });

  it('a value that is not an IPv4 address is refused', () => {
    const nodes = new Map([['odd', { ipv4: '1.2.3.4"; evil = "' }]]);
    userError(() => render('[%%odd.ipv4%%]', 'node-file', { nodes }, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%odd\.ipv4%%\]: the address of odd .* is not an IPv4 address$/);
  });
});

describe('deploy placeholders: forward references (upstream create flow)', () => {
  const warn = { forwardReferences: 'warn' as const };
  const file = 'reg = "[%%registry001.overlayIp%%]:5000";\nself = "[%%localhost.overlayIp%%]";\npeer = "[%%fresh1.overlayIp%%]";\nip = "[%%registry001.ipv4%%]";\n';
  const fresh = { localhost: { name: 'web1', ipv4: '203.0.113.1' } };

  it('a node or overlay IP that does not exist yet: a warning naming file:line, and a marker that cannot resolve', () => {
    const out = substituteDeployText(file, 'node-file', values({ ...fresh, ...warn }), 'nodes/web1.nix');
    assert.equal(
      out.content,
      'reg = "registry001.overlayIp.nix-infra-unresolved.invalid:5000";\nself = "web1.overlayIp.nix-infra-unresolved.invalid";\npeer = "fresh1.overlayIp.nix-infra-unresolved.invalid";\nip = "registry001.ipv4.nix-infra-unresolved.invalid";\n',
    );
    assert.equal(out.warnings.length, 4);
    assert.match(out.warnings[0] ?? '', /^nodes\/web1\.nix:1: \[%%registry001\.overlayIp%%\]: no server named "registry001" yet; rendered as registry001\.overlayIp\.nix-infra-unresolved\.invalid \(deploy again once it exists/);
    assert.match(out.warnings[1] ?? '', /^nodes\/web1\.nix:2: \[%%localhost\.overlayIp%%\]: no overlay IP known for web1 yet/);
    assert.match(out.warnings[2] ?? '', /^nodes\/web1\.nix:3: \[%%fresh1\.overlayIp%%\]/);
    assert.match(out.warnings[3] ?? '', /^nodes\/web1\.nix:4: \[%%registry001\.ipv4%%\]/);
  });

  it('once the node exists the same file resolves, with no warning', () => {
    const nodes = new Map([...NODES, ['registry001', { ipv4: '203.0.113.9', overlayIp: '10.10.9.0' }], ['fresh1', { ipv4: '203.0.113.3', overlayIp: '10.10.3.0' }]]);
    const out = substituteDeployText(file, 'node-file', values({ ...warn, nodes }), 'nodes/web1.nix');
    assert.equal(out.content, 'reg = "10.10.9.0:5000";\nself = "10.10.1.0";\npeer = "10.10.3.0";\nip = "203.0.113.9";\n');
    assert.deepEqual(out.warnings, []);
  });

  it('strict (the default) keeps them errors', () => {
    userError(() => render(file, 'node-file', fresh, 'nodes/web1.nix'), /^nodes\/web1\.nix:1: \[%%registry001\.overlayIp%%\]: no server named "registry001" \(and 3 more\)$/);
    userError(() => render(file, 'node-file', { ...fresh, forwardReferences: 'error' }, 'nodes/web1.nix'), /no server named "registry001"/);
  });

  it('a malformed or unknown key stays an error even when forward references warn', () => {
    for (const [text, message] of [
      ['[%%registry001.overlayIP%%]', /unknown placeholder \[%%registry001\.overlayIP%%\]/],
      ['[%%registry001%%]', /unknown placeholder/],
      ['[%%not a node.ipv4%%]', /no server named "not a node"$/],
      ['[%%private1.ipv4%%]', /server private1 has no public IPv4 address/],
      ['[%%localhost.overlayip%%]', /unknown placeholder/],
    ] as const) {
      userError(() => render(text, 'node-file', { ...fresh, ...warn }, 'nodes/web1.nix'), message);
    }
    userError(() => render('[%%registry001.overlayIp%%]', 'node-file', { ...warn, mode: 'fleet' }, 'nodes/web1.nix'), /overlay IPs exist only in cluster mode/);
  });

  it('in a secret value: a warning naming the secret and line, the marker in the value', () => {
    const warnings: string[] = [];
    const out = substituteSecretValue(new SecretValue('db.url', 'u:p\n@[%%db9.overlayIp%%]/app'), 'secret', values(warn), (w) => warnings.push(w));
    assert.equal(out.revealText(), 'u:p\n@db9.overlayIp.nix-infra-unresolved.invalid/app');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^secrets\/db\.url:2: \[%%db9\.overlayIp%%\]: no server named "db9" yet/);
  });
});

describe('deploy placeholders: secret values', () => {
  const secret = (text: string | Buffer) => new SecretValue('db.url', text);

  it('a regular secret gets the cluster map: <node>.ipv4 and <node>.overlayIp', () => {
    const out = substituteSecretValue(secret('mysql://u:p@[%%db1.overlayIp%%],[%%db1.ipv4%%]/app\n'), 'secret', values());
    assert.equal(out.revealText(), 'mysql://u:p@10.10.2.0,203.0.113.2/app\n');
    assert.equal(out.name, 'db.url');
  });

  it('localhost.* in a regular secret is an error naming the secret and line (upstream left it in)', () => {
    const error = userError(() => substituteSecretValue(secret('a\nhost=[%%localhost.ipv4%%]'), 'secret', values()), /^secrets\/db\.url:2: \[%%localhost\.ipv4%%\] is not filled in secret values/);
    assert.ok(error.hints.some((h) => h.includes('same on every node')));
  });

  it('a pre-build secret also gets localhost.*', () => {
    const out = substituteSecretValue(secret('machine [%%localhost.hostname%%] [%%localhost.ipv4%%] [%%localhost.overlayIp%%] [%%db1.ipv4%%]'), 'pre-build', values());
    assert.equal(out.revealText(), 'machine web1 203.0.113.1 10.10.1.0 203.0.113.2');
  });

  it('secret and trusted-key forms are not filled in secret values', () => {
    userError(() => substituteSecretValue(secret('[%%secrets/other%%]'), 'secret', values()), /^secrets\/db\.url:1: \[%%secrets\/other%%\] is not filled in secret values/);
    userError(() => substituteSecretValue(secret('[%%nix-store.trusted-public-keys%%]'), 'pre-build', values()), /^secrets\/db\.url:1: \[%%nix-store\.trusted-public-keys%%\] is not filled in/);
  });

  it('an unknown node or missing overlay IP in a secret value is an error', () => {
    userError(() => substituteSecretValue(secret('[%%db9.ipv4%%]'), 'secret', values()), /^secrets\/db\.url:1: \[%%db9\.ipv4%%\]: no server named "db9"$/);
    userError(() => substituteSecretValue(secret('x\n\n[%%fresh1.overlayIp%%]'), 'secret', values()), /^secrets\/db\.url:3: \[%%fresh1\.overlayIp%%\]: no overlay IP known for fresh1$/);
  });

  it('an unknown placeholder inside a secret is located but not echoed', () => {
    const error = userError(() => substituteSecretValue(secret('pw\n[%%hunter2 is my password%%]'), 'secret', values()), /^secrets\/db\.url:2: unknown placeholder a placeholder \(not shown/);
    assert.doesNotMatch(`${error.message} ${error.hints.join(' ')}`, /hunter2/);
  });

  it('bytes outside placeholders are kept exactly, and a value without placeholders is returned as is', () => {
    const binary = Buffer.concat([Buffer.from([0xff, 0x00, 0xc3]), Buffer.from('[%%db1.ipv4%%]'), Buffer.from([0xfe, 0x0a])]);
    const out = substituteSecretValue(secret(binary), 'secret', values());
    assert.deepEqual(out.reveal(), Buffer.concat([Buffer.from([0xff, 0x00, 0xc3]), Buffer.from('203.0.113.2'), Buffer.from([0xfe, 0x0a])]));
    const plain = secret(Buffer.from([0x80, 0x81]));
    assert.equal(substituteSecretValue(plain, 'secret', values()), plain);
  });
});

describe('deploy placeholders: file bytes', () => {
  it('keeps invalid UTF-8 outside placeholders and writes values as UTF-8', () => {
    const input = Buffer.concat([Buffer.from([0xe9]), Buffer.from(' "[%%sshKey%%]"')]);
    const out = substituteDeployFile(input, 'configuration.nix', values({ sshKey: 'ssh-ed25519 AAAA jürgen@host' }), 'configuration.nix');
    assert.deepEqual(out.content, Buffer.concat([Buffer.from([0xe9]), Buffer.from(' "ssh-ed25519 AAAA jürgen@host"', 'utf8')]));
  });
});

describe('core placeholders (existing callers)', () => {
  it('keeps its behaviour: line numbers only for multi-line texts, first unknown key is the error', () => {
    const resolve = (key: string) => (key === 'a' ? 'A' : undefined);
    assert.equal(substitutePlaceholders('[%%a%%]-[%%a%%]', resolve, 'x'), 'A-A');
    assert.throws(() => substitutePlaceholders('[%%b%%]', resolve, '--env-vars K'), /^UserError: --env-vars K: unknown placeholder \[%%b%%\]$/);
    assert.throws(() => substitutePlaceholders('1\n2\n[%%b%%]', resolve, 'f.nix'), /^UserError: f\.nix:3: unknown placeholder \[%%b%%\]$/);
  });
});

// ---------------------------------------------------------------------------------------------
// The plan, on a fixture project.

async function put(root: string, rel: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const full = path.join(root, rel);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, content);
  await chmod(full, mode);
}

const CONFIGURATION = '{ ... }:\n{\n  networking.hostName = "[%%nodeName%%]";\n  system.stateVersion = "[%%nixVersion%%]";\n  users.users.root.openssh.authorizedKeys.keys = [ "[%%sshKey%%]" ];\n}\n';
const FLAKE = '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-[%%nixVersion%%]";\n  outputs = { nixpkgs, ... }: {\n    nixosConfigurations."[%%nodeName%%]" = nixpkgs.lib.nixosSystem { system = "[%%hwArch%%]"; };\n  };\n}\n';
const CLUSTER_NODE = "{ ... }:\nlet members = ''[%%etcdCluster%%]''; in { }\n";
const CONTROL_NODE = "{ ... }:\n{ token = \"[%%etcdClusterToken%%]\"; members = ''[%%etcdCluster%%]''; }\n";
const STANDALONE = '{ ... }:\n{ networking.firewall.enable = true; }\n';
const WEB1 = [
  '{ ... }:',
  '{',
  '  me = "[%%localhost.hostname%%] [%%localhost.ipv4%%] [%%localhost.overlayIp%%]";',
  '  db = "[%%db1.overlayIp%%]"; dbPublic = "[%%db1.ipv4%%]";',
  '  keys = [%%nix-store.trusted-public-keys%%];',
  '  secret = "[%%secrets/mariadb.connectionString%%]";',
  '  netrc = "/run/keys/[%%pre-build-secrets/github-netrc%%]";',
  '  again = "[%%secrets/mariadb.connectionString%%]";',
  '}',
  '',
].join('\n');
const ACTION = '#!/usr/bin/env bash\necho "mysql://[%%db1.overlayIp%%]:3306"\n';
const TEMPLATE = 'listen {{ .x }} [%%not-resolved-here%%]\n';

async function fixtureProject(t: TestContext): Promise<string> {
  const root = await tempDir(t, 'nix-infra-deploy-plan-');
  await put(root, 'configuration.nix', CONFIGURATION);
  await put(root, 'flake.nix', FLAKE);
  await put(root, 'node_types/cluster_node.nix', CLUSTER_NODE);
  await put(root, 'node_types/control_node.nix', CONTROL_NODE);
  await put(root, 'node_types/standalone_machine.nix', STANDALONE);
  await put(root, 'modules/default.nix', '{ imports = [ ./mesh.nix ]; }\n');
  await put(root, 'modules/mesh.nix', '{ }\n');
  await put(root, 'modules/mesh.tmpl', TEMPLATE);
  await put(root, 'modules/sub/skipped.nix', '{ }\n');
  await put(root, 'nodes/web1.nix', WEB1);
  await put(root, 'nodes/etcd001.nix', '{ }\n');
  await put(root, 'app_modules/default.nix', '{ imports = [ ./mariadb ]; }\n');
  await put(root, 'app_modules/mariadb/default.nix', '{ }\n');
  await put(root, 'app_modules/mariadb/action.sh', ACTION, 0o755);
  await put(root, 'app_modules/mariadb/conf/my.cnf', '[mysqld]\n');
  return root;
}

function params(overrides: Partial<DeployPlanParams> = {}): DeployPlanParams {
  return {
    mode: 'cluster',
    node: { name: 'web1', ipv4: '203.0.113.1', overlayIp: '10.10.1.0' },
    nodes: NODES,
    nixosVersion: '25.05',
    sshPublicKey: SSH_KEY,
    hwArch: 'x86_64-linux',
    nodeModule: 'node_types/cluster_node.nix',
    etcdCluster: MEMBERS,
    trustedPublicKeys: [KEY1],
    ...overrides,
  };
}

/** The plan with contents as text, for exact comparison. */
function asText(plan: DeployPlan) {
  const show = (f: { remotePath: string; content: Buffer; mode: number }) => ({ path: f.remotePath, mode: f.mode.toString(8), text: f.content.toString('utf8') });
  return { files: plan.files.map(show), appModules: plan.appModules.map(show), directories: plan.directories, secrets: plan.secrets, preBuildSecrets: plan.preBuildSecrets };
}

describe('deploy plan: the file contract', () => {
  it('renders a cluster node exactly', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    const plan = await buildDeployPlan(project, params());
    assert.equal(plan.appModulesRoot, '/etc/nixos/app_modules');
    assert.deepEqual(asText(plan), {
      files: [
        {
          path: '/etc/nixos/configuration.nix',
          mode: '644',
          text: `{ ... }:\n{\n  networking.hostName = "web1";\n  system.stateVersion = "25.05";\n  users.users.root.openssh.authorizedKeys.keys = [ "${SSH_KEY}" ];\n}\n`,
        },
        {
          path: '/etc/nixos/flake.nix',
          mode: '644',
          text: '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  outputs = { nixpkgs, ... }: {\n    nixosConfigurations."web1" = nixpkgs.lib.nixosSystem { system = "x86_64-linux"; };\n  };\n}\n',
        },
        { path: '/etc/nixos/cluster_node.nix', mode: '644', text: `{ ... }:\nlet members = ''${MEMBERS}''; in { }\n` },
        { path: '/etc/nixos/modules/default.nix', mode: '644', text: '{ imports = [ ./mesh.nix ]; }\n' },
        { path: '/etc/nixos/modules/mesh.nix', mode: '644', text: '{ }\n' },
        { path: '/etc/nixos/modules/mesh.tmpl', mode: '644', text: TEMPLATE },
        {
          path: '/etc/nixos/web1.nix',
          mode: '644',
          text: [
            '{ ... }:',
            '{',
            '  me = "web1 203.0.113.1 10.10.1.0";',
            '  db = "10.10.2.0"; dbPublic = "203.0.113.2";',
            `  keys = [ "${KEY1}" ];`,
            '  secret = "mariadb.connectionString";',
            '  netrc = "/run/keys/github-netrc";',
            '  again = "mariadb.connectionString";',
            '}',
            '',
          ].join('\n'),
        },
      ],
      appModules: [
        { path: '/etc/nixos/app_modules/default.nix', mode: '644', text: '{ imports = [ ./mariadb ]; }\n' },
        { path: '/etc/nixos/app_modules/mariadb/action.sh', mode: '755', text: ACTION },
        { path: '/etc/nixos/app_modules/mariadb/conf/my.cnf', mode: '644', text: '[mysqld]\n' },
        { path: '/etc/nixos/app_modules/mariadb/default.nix', mode: '644', text: '{ }\n' },
      ],
      directories: ['/etc/nixos/app_modules', '/etc/nixos/app_modules/mariadb', '/etc/nixos/app_modules/mariadb/conf', '/etc/nixos/modules'],
      secrets: ['github-netrc', 'mariadb.connectionString'],
      preBuildSecrets: ['github-netrc'],
    });
  });

  it('renders a control node: the node type goes to control_node.nix with the cluster token', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    const plan = await buildDeployPlan(
      project,
      params({ node: { name: 'etcd001', ipv4: '203.0.113.10' }, nodeModule: 'node_types/control_node.nix', control: { clusterToken: 'abc-123' } }),
    );
    const nodeType = plan.files.find((f) => f.remotePath === '/etc/nixos/control_node.nix');
    assert.equal(nodeType?.content.toString(), `{ ... }:\n{ token = "abc-123"; members = ''${MEMBERS}''; }\n`);
    assert.equal(plan.files.some((f) => f.remotePath === '/etc/nixos/cluster_node.nix'), false);
    assert.equal(plan.files.find((f) => f.remotePath === '/etc/nixos/etcd001.nix')?.content.toString(), '{ }\n');
    assert.deepEqual(plan.secrets, []);
  });

  it('fleet: the node type is uploaded as cluster_node.nix; overlay IPs in the node file are an error with file and line', async (t) => {
    const root = await fixtureProject(t);
    const project = new NodeWorkspace(root);
    await put(root, 'nodes/web1.nix', '{ ip = "[%%localhost.ipv4%%]"; db = "[%%db1.ipv4%%]"; }\n');
    const plan = await buildDeployPlan(project, params({ mode: 'fleet', nodeModule: 'node_types/standalone_machine.nix', etcdCluster: undefined }));
    assert.equal(plan.files.find((f) => f.remotePath === '/etc/nixos/cluster_node.nix')?.content.toString(), STANDALONE);
    assert.equal(plan.files.find((f) => f.remotePath === '/etc/nixos/web1.nix')?.content.toString(), '{ ip = "203.0.113.1"; db = "203.0.113.2"; }\n');
    await put(root, 'nodes/web1.nix', WEB1);
    await userErrorAsync(
      () => buildDeployPlan(project, params({ mode: 'fleet', nodeModule: 'node_types/standalone_machine.nix' })),
      /^nodes\/web1\.nix:3: \[%%localhost\.overlayIp%%\]: overlay IPs exist only in cluster mode \(and 1 more\)$/,
    );
  });

  it('a node without nodes/<node>.nix gets no node file and no secrets', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    const plan = await buildDeployPlan(project, params({ node: { name: 'db1', ipv4: '203.0.113.2', overlayIp: '10.10.2.0' } }));
    assert.deepEqual(
      plan.files.map((f) => f.remotePath),
      ['/etc/nixos/configuration.nix', '/etc/nixos/flake.nix', '/etc/nixos/cluster_node.nix', '/etc/nixos/modules/default.nix', '/etc/nixos/modules/mesh.nix', '/etc/nixos/modules/mesh.tmpl'],
    );
    assert.deepEqual(plan.secrets, []);
    assert.deepEqual(plan.preBuildSecrets, []);
  });

  it('a project without modules/ and app_modules/ still gets both folders', async (t) => {
    const root = await tempDir(t, 'nix-infra-deploy-plan-');
    await put(root, 'configuration.nix', CONFIGURATION);
    await put(root, 'flake.nix', FLAKE);
    await put(root, 'node_types/cluster_node.nix', CLUSTER_NODE);
    const plan = await buildDeployPlan(new NodeWorkspace(root), params());
    assert.equal(plan.files.length, 3);
    assert.deepEqual(plan.appModules, []);
    assert.deepEqual(plan.directories, ['/etc/nixos/app_modules', '/etc/nixos/modules']);
  });

  it('reads the node file from another folder when given (upstream --test-dir)', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    const testRoot = await tempDir(t, 'nix-infra-deploy-testdir-');
    await put(testRoot, 'nodes/web1.nix', '{ s = "[%%secrets/test.only%%]"; }\n');
    const plan = await buildDeployPlan(project, params({ nodeFileSource: new NodeWorkspace(testRoot) }));
    assert.equal(plan.files.find((f) => f.remotePath === '/etc/nixos/web1.nix')?.content.toString(), '{ s = "test.only"; }\n');
    assert.deepEqual(plan.secrets, ['test.only']);
    await put(testRoot, 'nodes/web1.nix', '\n[%%nope%%]\n');
    await userErrorAsync(() => buildDeployPlan(project, params({ nodeFileSource: new NodeWorkspace(testRoot) })), new RegExp(`^${testRoot.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/nodes/web1\\.nix:2: unknown placeholder \\[%%nope%%\\]$`));
  });
});

describe('deploy plan: refusals', () => {
  it('a placeholder problem in any project file names the file and line', async (t) => {
    const root = await fixtureProject(t);
    const project = new NodeWorkspace(root);
    await put(root, 'node_types/cluster_node.nix', '{ ... }:\n\n{ x = "[%%etcdClusterToken%%]"; }\n');
    await userErrorAsync(() => buildDeployPlan(project, params()), /^node_types\/cluster_node\.nix:3: \[%%etcdClusterToken%%\] is not filled in/);
    await put(root, 'node_types/cluster_node.nix', CLUSTER_NODE);
    await put(root, 'flake.nix', 'x\n[%%localhost.ipv4%%]\n');
    await userErrorAsync(() => buildDeployPlan(project, params()), /^flake\.nix:2: \[%%localhost\.ipv4%%\] is not filled in flake\.nix/);
    await put(root, 'flake.nix', FLAKE);
    await put(root, 'nodes/web1.nix', '{\n  a = "[%%secrets/../../etc/shadow%%]";\n}\n');
    await userErrorAsync(() => buildDeployPlan(project, params()), /^nodes\/web1\.nix:2: \[%%secrets\/\.\.\/\.\.\/etc\/shadow%%\]: a secret name may not contain "\/"$/);
  });

  it('missing configuration.nix, flake.nix or node type', async (t) => {
    const root = await tempDir(t, 'nix-infra-deploy-plan-');
    const project = new NodeWorkspace(root);
    await userErrorAsync(() => buildDeployPlan(project, params()), /^configuration\.nix: not found in /);
    await put(root, 'configuration.nix', CONFIGURATION);
    await userErrorAsync(() => buildDeployPlan(project, params()), /^flake\.nix: not found in /);
    await put(root, 'flake.nix', FLAKE);
    await userErrorAsync(() => buildDeployPlan(project, params()), /^node_types\/cluster_node\.nix: not found in /);
  });

  it('a node module outside node_types/ or a node name that is not a label', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    await userErrorAsync(() => buildDeployPlan(project, params({ nodeModule: '../outside.nix' })), /--node-module must be a file in node_types\//);
    await userErrorAsync(() => buildDeployPlan(project, params({ nodeModule: 'node_types/../configuration.nix' })), /--node-module/);
    await userErrorAsync(() => buildDeployPlan(project, params({ node: { name: '../web1', ipv4: '203.0.113.1' } })), /is not a node name/);
  });

  it('a node whose file would replace a system file', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    for (const name of ['flake', 'configuration', 'networking', 'hardware-configuration']) {
      await userErrorAsync(() => buildDeployPlan(project, params({ node: { name, ipv4: '203.0.113.1' } })), new RegExp(`/etc/nixos/${name}\\.nix would replace a system file`));
    }
  });

  it('bad inputs: NixOS version, system, SSH key, cluster without control nodes, control node in fleet', async (t) => {
    const project = new NodeWorkspace(await fixtureProject(t));
    await userErrorAsync(() => buildDeployPlan(project, params({ nixosVersion: '25.05"; x' })), /--nixos-version/);
    await userErrorAsync(() => buildDeployPlan(project, params({ hwArch: 'x86_64 linux' })), /not a Nix system/);
    await userErrorAsync(() => buildDeployPlan(project, params({ sshPublicKey: 'ssh-ed25519 AAAA x" ]; y' })), /SSH public key/);
    await userErrorAsync(() => buildDeployPlan(project, params({ sshPublicKey: `${SSH_KEY}\nssh-rsa AAAA` })), /SSH public key/);
    await userErrorAsync(() => buildDeployPlan(project, params({ etcdCluster: undefined })), /needs the control nodes/);
    await userErrorAsync(() => buildDeployPlan(project, params({ mode: 'fleet', control: { clusterToken: 'x' } })), /only in cluster mode/);
    await userErrorAsync(() => buildDeployPlan(project, params({ control: { clusterToken: 'a b' } })), /--cluster-uuid/);
  });

  it('an app module file name that cannot be uploaded safely', async (t) => {
    const root = await fixtureProject(t);
    await put(root, 'app_modules/mariadb/bad\nname.nix', '{ }\n');
    await userErrorAsync(() => buildDeployPlan(new NodeWorkspace(root), params()), /^app_modules: "mariadb\/bad\\nname\.nix" is not a file name that can be uploaded$/);
  });
});

describe('deploy plan: stale app module files', () => {
  const plan = {
    appModulesRoot: '/etc/nixos/app_modules' as const,
    appModules: [
      { remotePath: '/etc/nixos/app_modules/default.nix', content: Buffer.from(''), mode: 0o644 },
      { remotePath: '/etc/nixos/app_modules/mariadb/default.nix', content: Buffer.from(''), mode: 0o644 },
    ],
  };

  it('lists remote files the plan does not upload, sorted and once each', () => {
    assert.deepEqual(
      staleAppModuleFiles(
        [
          '/etc/nixos/app_modules/old/default.nix',
          '/etc/nixos/app_modules/default.nix',
          '',
          '/etc/nixos/app_modules/mariadb/default.nix',
          '/etc/nixos/app_modules/mariadb/removed.sh',
          '/etc/nixos/app_modules/old/default.nix',
        ],
        plan,
      ),
      ['/etc/nixos/app_modules/mariadb/removed.sh', '/etc/nixos/app_modules/old/default.nix'],
    );
    assert.deepEqual(staleAppModuleFiles([], plan), []);
  });

  it('works on a real plan', async (t) => {
    const real = await buildDeployPlan(new NodeWorkspace(await fixtureProject(t)), params());
    assert.deepEqual(
      staleAppModuleFiles([...real.appModules.map((f) => f.remotePath), '/etc/nixos/app_modules/mariadb/conf/old.cnf'], real),
      ['/etc/nixos/app_modules/mariadb/conf/old.cnf'],
    );
  });

  for (const entry of [
    '/etc/nixos/app_modules/../configuration.nix',
    '/etc/nixos/app_modules/x/../../flake.nix',
    '/etc/nixos/app_modules/./x',
    '/etc/nixos/app_modules//x',
    '/etc/nixos/app_modules/x/',
    '/etc/nixos/app_modules',
    '/etc/nixos/app_modules/',
    '/etc/nixos/app_modulesX/y',
    '/etc/nixos/configuration.nix',
    '/etc/passwd',
    'app_modules/x',
    '../app_modules/x',
    '/etc/nixos/app_modules/a\n/etc/passwd',
    '/etc/nixos/app_modules/a\0b',
  ]) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      userError(() => staleAppModuleFiles(['/etc/nixos/app_modules/stale.nix', entry], plan), /^refusing to delete .*: not a file inside \/etc\/nixos\/app_modules$/);
    });
  }
});
