// The Nix files `nix-infra init` scaffolds a project from. Every `*.nix` under templates/ (found
// by walking the folder, so a new template is covered without touching this file) must parse
// with `nix-instantiate --parse` both as shipped, with its `[%%key%%]` placeholders still in
// place, and after the CLI has filled them in. Needs Nix's `nix-instantiate` on PATH (Debian and
// Ubuntu: `apt-get install nix-bin`); without it these tests fail rather than skip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { scaffoldTargetPath } from '../src/core/init/scaffold.js';
import { substituteDeployText } from '../src/core/deploy/placeholders.js';
import { substitutePlaceholders } from '../src/core/placeholders.js';
import { renderMeshBody } from './support/confd-mesh.js';
import { repoRoot, tempDir } from './support/repo.js';

const exec = promisify(execFile);

const templatesDir = path.join(repoRoot, 'templates');

/** The same pattern the CLI substitutes (src/core/placeholders.ts): `[%%key%%]`, non-greedy, one line. */
const PLACEHOLDER = /\[%%(.*?)%%\]/g;

/** A template file: which template folder it is in, and its path inside that folder. */
interface TemplateFile {
  template: string;
  rel: string;
  full: string;
}

async function listTemplateFiles(): Promise<TemplateFile[]> {
  const files: TemplateFile[] = [];
  for (const entry of await readdir(templatesDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const [template, ...rest] = path.relative(templatesDir, full).split(path.sep);
    assert.ok(template !== undefined && rest.length > 0, `${full}: files must live in a template folder`);
    files.push({ template, rel: rest.join('/'), full });
  }
  return files.sort((a, b) => `${a.template}/${a.rel}`.localeCompare(`${b.template}/${b.rel}`));
}

const templateFiles = await listTemplateFiles();
const nixFiles = templateFiles.filter((f) => f.rel.endsWith('.nix'));

/** Representative values, shaped like what the CLI substitutes at deploy time. */
const ETCD_MEMBERS = [
  { name: 'etcd001', ip: '203.0.113.10' },
  { name: 'etcd002', ip: '203.0.113.11' },
  { name: 'etcd003', ip: '203.0.113.12' },
];
const CLUSTER_TOKEN = '5f0c6d2e-8a41-4c3b-9e57-1d2f3a4b5c6d';
const FIXED_VALUES: Record<string, string> = {
  nodeName: 'worker001',
  nixVersion: '25.05',
  hwArch: 'x86_64-linux',
  sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm3qX3vGnQ0v1mJ4bY9qk2N8cYpXr0sT5uV6wZ7aB8c ops@example.com',
  // Upstream's format: one Nix attrset per control node, separated by single spaces.
  etcdCluster: ETCD_MEMBERS.map((m) => `{ name = "${m.name}"; ip = "${m.ip}"; }`).join(' '),
  etcdClusterToken: CLUSTER_TOKEN,
};

/** Keys of nodes/<node>.nix files (deploy-apps): per-server addresses, localhost.*, cache keys, secrets. */
const NODE_FILE_KEY =
  /^(?:[A-Za-z0-9_-]+\.(?:ipv4|overlayIp)|localhost\.(?:hostname|ipv4|overlayIp)|nix-store\.trusted-public-keys|(?:pre-build-)?secrets\/[^/]+(?:\/[^/]+)*)$/;

/** The value for a key, or undefined when the key is unknown (which fails the test). */
function representativeValue(key: string): string | undefined {
  if (Object.hasOwn(FIXED_VALUES, key)) return FIXED_VALUES[key];
  if (!NODE_FILE_KEY.test(key)) return undefined;
  if (key.startsWith('secrets/') || key.startsWith('pre-build-secrets/')) return key.slice(key.lastIndexOf('/') + 1);
  if (key === 'nix-store.trusted-public-keys') return '[ "cache.example.org-1:aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y" ]';
  if (key === 'localhost.hostname') return 'worker001';
  if (key.endsWith('.overlayIp')) return '10.10.93.0';
  return '198.51.100.7';
}

/**
 * Which keys the CLI substitutes in a file, by where the file ends up (the upstream contract):
 * configuration.nix and flake.nix get their fixed sets, node types the etcd keys (cluster mode;
 * fleet uploads node types verbatim), nodes/<node>.nix the per-node map, everything else
 * (modules/, app_modules/) nothing at all.
 */
function keyAllowed(file: TemplateFile, key: string): boolean {
  const target = scaffoldTargetPath(file.rel);
  if (target === 'configuration.nix') return ['sshKey', 'nodeName', 'nixVersion'].includes(key);
  if (target === 'flake.nix') return ['nixVersion', 'nodeName', 'hwArch'].includes(key);
  if (target === 'node_types/control_node.nix' && file.template === 'cluster') {
    return ['etcdCluster', 'etcdClusterToken'].includes(key);
  }
  if (target.startsWith('node_types/')) return file.template === 'cluster' && key === 'etcdCluster';
  if (target.startsWith('nodes/')) return NODE_FILE_KEY.test(key);
  return false;
}

function placeholderKeys(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

let nixChecked: Promise<void> | undefined;

/** Fails (never skips) with an actionable message when Nix is not installed. */
function requireNix(): Promise<void> {
  nixChecked ??= exec('nix-instantiate', ['--version']).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw new Error(
          'nix-instantiate is not installed, so the Nix templates cannot be checked. ' +
            'Install Nix (Debian/Ubuntu: `apt-get install -y nix-bin`); CI must provide it.',
        );
      }
      throw error;
    },
  );
  return nixChecked;
}

/**
 * `nix-instantiate` with the dummy store: parsing and pure evaluation need no Nix store, and
 * without it an unprivileged user would need access to the nix-daemon socket.
 */
async function nixInstantiate(args: string[]): Promise<string> {
  await requireNix();
  try {
    const { stdout } = await exec('nix-instantiate', ['--store', 'dummy://', ...args]);
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`nix-instantiate ${args.join(' ')} failed:\n${stderr || String(error)}`);
  }
}

async function fillIn(t: TestContext, file: TemplateFile): Promise<string> {
  const text = await readFile(file.full, 'utf8');
  const filled = substitutePlaceholders(text, representativeValue, `${file.template}/${file.rel}`);
  assert.doesNotMatch(filled, /\[%%/, 'every placeholder is filled in');
  const copy = path.join(await tempDir(t, 'nix-infra-templates-'), file.template, file.rel);
  await mkdir(path.dirname(copy), { recursive: true });
  await writeFile(copy, filled);
  return copy;
}

describe('templates: Nix files', () => {
  it('finds the Nix files of every template', () => {
    const present = new Set(nixFiles.map((f) => `${f.template}/${f.rel}`));
    for (const required of [
      'common/configuration.nix',
      'common/flake.nix',
      'common/modules/default.nix',
      'common/app_modules/default.nix',
      'cluster/node_types/control_node.nix',
      'cluster/node_types/cluster_node.nix',
      'fleet/node_types/standalone_machine.nix',
    ]) {
      assert.ok(present.has(required), `templates/${required} is missing`);
    }
  });

  it('uses only placeholders the CLI fills in for that file', async () => {
    const problems: string[] = [];
    for (const file of nixFiles) {
      for (const key of placeholderKeys(await readFile(file.full, 'utf8'))) {
        if (representativeValue(key) === undefined) problems.push(`${file.template}/${file.rel}: unknown placeholder [%%${key}%%]`);
        else if (!keyAllowed(file, key)) problems.push(`${file.template}/${file.rel}: the CLI does not fill in [%%${key}%%] in this file`);
      }
    }
    assert.deepEqual(problems, []);
  });

  for (const file of nixFiles) {
    const name = `templates/${file.template}/${file.rel}`;

    it(`${name} parses as shipped`, async () => {
      await nixInstantiate(['--parse', file.full]);
    });

    it(`${name} parses with its placeholders filled in`, async (t) => {
      await nixInstantiate(['--parse', await fillIn(t, file)]);
    });
  }

  it('control_node.nix turns the substituted etcdCluster text into the etcd member list', async (t) => {
    const file = nixFiles.find((f) => f.template === 'cluster' && f.rel === 'node_types/control_node.nix');
    assert.ok(file);
    const copy = await fillIn(t, file);
    // On a node the node type sits in /etc/nixos with the project's modules/ next to it.
    await cp(path.join(templatesDir, 'cluster', 'modules'), path.join(path.dirname(copy), 'modules'), { recursive: true });
    // Only what the file needs from nixpkgs' lib and from the NixOS config, as small stand-ins.
    const expr = `
      let
        lib = builtins // {
          findFirst = pred: default: list:
            let found = builtins.filter pred list; in if found == [ ] then default else builtins.head found;
          concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
        };
        node = import ${JSON.stringify(copy)} {
          inherit lib;
          pkgs = { };
          config = { networking.hostName = "etcd002"; networking.interfaces = { }; };
        };
      in {
        inherit (node.services) etcd;
        loadCredential = node.systemd.services.etcd.serviceConfig.LoadCredential;
        ports = node.networking.firewall.allowedTCPPorts;
      }`;
    const result = JSON.parse(await nixInstantiate(['--eval', '--strict', '--json', '--expr', expr])) as {
      etcd: Record<string, unknown>;
      loadCredential: string[];
      ports: number[];
    };
    assert.deepEqual(
      result.etcd.initialCluster,
      ETCD_MEMBERS.map((m) => `${m.name}=https://${m.ip}:2380`),
    );
    assert.equal(result.etcd.initialClusterToken, CLUSTER_TOKEN);
    assert.deepEqual(result.etcd.advertiseClientUrls, ['https://203.0.113.11:2379']);
    assert.deepEqual(result.etcd.initialAdvertisePeerUrls, ['https://203.0.113.11:2380']);
    assert.equal(result.etcd.clientCertAuth, true);
    assert.equal(result.etcd.peerClientCertAuth, true);
    for (const option of ['trustedCaFile', 'certFile', 'keyFile', 'peerTrustedCaFile', 'peerCertFile', 'peerKeyFile']) {
      // Strings outside the store: a path literal would copy the key into the world-readable store.
      assert.match(String(result.etcd[option]), /^\/run\/credentials\/etcd\.service\//, option);
    }
    assert.deepEqual(
      result.loadCredential.map((c) => c.slice(c.indexOf(':') + 1)).sort(),
      [
        '/root/certs/ca-chain.cert.pem',
        '/root/certs/etcd002-client-tls.cert.pem',
        '/root/certs/etcd002-client-tls.key.pem',
        '/root/certs/etcd002-peer-tls.cert.pem',
        '/root/certs/etcd002-peer-tls.key.pem',
      ],
    );
    assert.deepEqual([...result.ports].sort(), [2379, 2380]);
  });
});


describe('templates: the example app (cluster/app_modules/hello-mesh, cluster/nodes/example001.nix)', () => {
  it('the node file renders the secret to its bare name and the overlay IP; the app then registers where the mesh template looks', async (t) => {
    const appModule = path.join(templatesDir, 'cluster', 'app_modules', 'hello-mesh', 'default.nix');
    const nodeText = await readFile(path.join(templatesDir, 'cluster', 'nodes', 'example001.nix'), 'utf8');
    // The CLI's own node-file substitution, as deploy-apps runs it.
    const rendered = substituteDeployText(
      nodeText,
      'node-file',
      { mode: 'cluster', nodes: new Map(), localhost: { name: 'example001', ipv4: '203.0.113.9', overlayIp: '10.10.4.0' } },
      'nodes/example001.nix',
    );
    assert.deepEqual(rendered.secrets, ['hello.token'], 'the deploy sends this secret to the node');
    assert.match(rendered.content, /tokenSecret = "hello\.token";/);
    assert.match(rendered.content, /bindToIp = "10\.10\.4\.0";/);
    const dir = await tempDir(t, 'nix-infra-example-');
    const nodeFile = path.join(dir, 'example001.nix');
    await writeFile(nodeFile, rendered.content);

    // Just enough of lib and pkgs for the module's own logic; option defaults come from the module.
    const expr = `
      let
        lib = {
          mkOption = o: o; mkEnableOption = d: { default = false; }; mkIf = c: v: if c then v else { };
          escapeShellArg = s: "'" + s + "'"; types = { enum = _: null; str = null; port = null; };
        };
        pkgs = { writeText = _: t: t; writeShellScript = _: t: t; etcd = "/etcd"; python3 = "/python3"; curl = "/curl"; };
        node = import ${JSON.stringify(nodeFile)} { };
        defaults = builtins.mapAttrs (_: o: o.default or null) app.options.apps.hello-mesh;
        app = import ${JSON.stringify(appModule)} {
          inherit lib pkgs;
          config = {
            apps.hello-mesh = defaults // node.apps.hello-mesh;
            networking.hostName = "example001";
            environment.variables = { ETCDCTL_ENDPOINTS = "e"; ETCDCTL_CACERT = "c"; ETCDCTL_CERT = "x"; ETCDCTL_KEY = "k"; };
          };
        };
      in {
        imports = map builtins.baseNameOf node.imports;
        inherit (app.config.systemd.services.hello-mesh.serviceConfig) LoadCredentialEncrypted ExecStartPre ExecStartPost ExecStop;
      }`;
    const unit = JSON.parse(await nixInstantiate(['--eval', '--strict', '--json', '--expr', expr])) as Record<string, string | string[]>;
    assert.deepEqual(unit.imports, ['hello-mesh']);
    assert.equal(unit.LoadCredentialEncrypted, 'hello.token:/root/secrets/hello.token');
    // What the unit puts into etcd, fed to the mesh template as confd would see it.
    const puts = [String(unit.ExecStartPre), String(unit.ExecStartPost)].map((cmd) => /etcdctl put (\S+) '(.*)'/.exec(cmd));
    const kv = new Map<string, string>([['/cluster/nodes/consumer', JSON.stringify({ name: 'consumer', ipv4: '203.0.113.5', services: ['services'] })]]);
    for (const put of puts) {
      assert.ok(put?.[1] !== undefined && put[2] !== undefined, `an etcdctl put in ${JSON.stringify(unit)}`);
      kv.set(put[1], put[2]);
    }
    assert.deepEqual([...kv.keys()].slice(1), ['/cluster/services/hello-mesh/meta_data', '/cluster/services/hello-mesh/instances/example001']);
    assert.match(String(unit.ExecStop), /etcdctl del \/cluster\/services\/hello-mesh\/instances\/example001$/);
    const body = renderMeshBody(kv, 'consumer');
    assert.match(body, /listen services-hello-mesh\n {4}bind 127\.0\.0\.1:18181\n {4}balance roundrobin\n {4}server example001 10\.10\.4\.0:8181 check/);
  });
});
describe('templates: scaffold paths', () => {
  it('every template file maps to a safe project path, with dot- segments turned into dotfiles', () => {
    assert.ok(templateFiles.length > 0);
    for (const file of templateFiles) {
      const target = scaffoldTargetPath(file.rel);
      const from = file.rel.split('/');
      const to = target.split('/');
      assert.ok(!path.isAbsolute(target), `${file.rel} -> ${target} is absolute`);
      assert.equal(to.length, from.length, `${file.rel} -> ${target} keeps its depth`);
      from.forEach((segment, i) => {
        const mapped = to[i] ?? '';
        assert.ok(mapped !== '' && mapped !== '.' && mapped !== '..', `${file.rel} -> ${target}: segment "${mapped}"`);
        assert.equal(mapped, segment.startsWith('dot-') ? `.${segment.slice(4)}` : segment, `${file.rel} segment ${i}`);
      });
    }
  });

  it('maps the dotfiles npm would drop', () => {
    assert.equal(scaffoldTargetPath('dot-gitignore'), '.gitignore');
    assert.equal(scaffoldTargetPath('dot-env.example'), '.env.example');
    assert.equal(scaffoldTargetPath('nodes/dot-gitkeep'), 'nodes/.gitkeep');
    assert.equal(scaffoldTargetPath('node_types/control_node.nix'), 'node_types/control_node.nix');
  });

  it('no template shadows a common file (init would keep the common one and skip it)', () => {
    const common = new Set(templateFiles.filter((f) => f.template === 'common').map((f) => scaffoldTargetPath(f.rel)));
    const clashes = templateFiles
      .filter((f) => f.template !== 'common' && common.has(scaffoldTargetPath(f.rel)))
      .map((f) => `${f.template}/${f.rel}`);
    assert.deepEqual(clashes, []);
  });
});
