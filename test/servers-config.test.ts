import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadServersFile, parseServersYaml } from '../src/config/load-servers.js';
import { renderServersJsonSchema, serverEntrySchema, serversFileSchema } from '../src/config/servers-schema.js';
import { ExitCode, UserError } from '../src/domain/errors.js';
import { fixture, repoRoot } from './support/repo.js';

/** zod's own wording; none of it may reach the operator. */
const ZOD_TEXT = /Invalid input|Invalid key|Too (big|small)|Unrecognized key|"code"|ZodError|\bat \S+:\d+/;

/** Asserts the operator-facing shape of a config error and returns it for further checks. */
function assertConfigError(error: unknown, prefix: string, problem: RegExp): UserError {
  assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
  assert.equal(error.exitCode, ExitCode.invalidInput);
  assert.doesNotMatch(error.message, /\n/, 'the message must be one line');
  assert.ok(error.message.startsWith(prefix), `"${error.message}" should start with "${prefix}"`);
  assert.match(error.message, problem);
  assert.doesNotMatch(error.message, ZOD_TEXT);
  for (const hint of error.hints) {
    assert.doesNotMatch(hint, /\n/);
    assert.doesNotMatch(hint, ZOD_TEXT);
  }
  assert.ok(error.hints.includes('see servers.example.yaml for every key'));
  return error;
}

async function loadError(dir: string): Promise<unknown> {
  try {
    await loadServersFile(fixture('servers', dir));
  } catch (error) {
    return error;
  }
  assert.fail(`fixture ${dir} loaded without an error`);
}

describe('servers.yaml: each bad fixture gets one path-precise line', () => {
  const cases: [dir: string, prefix: string, problem: RegExp][] = [
    ['syntax-error', 'servers.yaml:4:1: ', /same column/],
    ['empty', 'servers.yaml: servers: ', /file is empty/],
    ['not-a-mapping', 'servers.yaml: (top level): ', /expected a mapping .* found a list/],
    ['missing-servers', 'servers.yaml: servers: ', /missing/],
    ['missing-ip', 'servers.yaml: servers.web1.ip: ', /missing.*provider: hetzner/],
    ['bad-ip', 'servers.yaml: servers.web1.ip: ', /^[^"]*"10\.0\.0" is not an IP address/],
    ['unknown-key', 'servers.yaml: servers.web1.user: ', /unknown key; allowed keys: ip, provider, ssh_key, username/],
    ['unknown-top-key', 'servers.yaml: defaults: ', /unknown key; allowed keys: servers$/],
    ['duplicate-name', 'servers.yaml: servers.web1: ', /duplicate server name \(lines 2 and 8\)/],
    ['duplicate-address', 'servers.yaml: servers.web2.ip: ', /10\.0\.0\.1 port 22 is also used by servers\.web1/],
    ['missing-key-file', 'servers.yaml: servers.web1.ssh_key: ', /key file not found: .*ssh\/does-not-exist/],
    ['name-semicolon', 'servers.yaml: servers["a;b"]: ', /is not a valid server name/],
    ['name-dotdot', 'servers.yaml: servers["../x"]: ', /is not a valid server name/],
    ['ip-and-provider', 'servers.yaml: servers.web1: ', /both "ip" and "provider"/],
    ['unknown-provider', 'servers.yaml: servers.web1.provider: ', /unknown provider "aws"; supported providers: hetzner/],
    ['bad-port', 'servers.yaml: servers.web1.port: ', /70000 is not a port/],
    ['bad-username', 'servers.yaml: servers.web1.username: ', /not a valid user name.*\^\[a-z_\]/],
  ];
  for (const [dir, prefix, problem] of cases) {
    test(dir, async () => {
      assertConfigError(await loadError(dir), prefix, problem);
    });
  }

  test('a missing file says where it looked', async () => {
    const dir = fixture('servers', 'no-such-folder');
    await assert.rejects(loadServersFile(dir), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.exitCode, ExitCode.invalidInput);
      assert.equal(error.message, `servers.yaml not found in ${dir}`);
      return true;
    });
  });
});

describe('servers.yaml: several problems', () => {
  // zod would report these as 7.shape, web1.port, web1.colour, web2.ip (integer-like keys first,
  // unknown keys after known ones); the operator should get them top to bottom.
  const text = [
    'servers:',
    '  web1: {colour: red, ip: 10.0.0.1, ssh_key: k, port: 0}',
    '  web2: {ip: 300.1.1.1, ssh_key: k}',
    '  7: {ip: 10.0.0.9, ssh_key: k, shape: round}',
  ].join('\n');

  test('the first one in file order is the message; each other is a standalone hint', () => {
    let caught: unknown;
    try {
      parseServersYaml(text, { file: '/p/servers.yaml', workingDir: '/p', fileExists: () => true });
    } catch (error) {
      caught = error;
    }
    const error = assertConfigError(caught, 'servers.yaml: servers.web1.colour: ', /unknown key/);
    const others = error.hints.filter((hint) => hint.startsWith('servers.yaml: '));
    assert.deepEqual(
      others.map((hint) => hint.split(': ')[1]),
      ['servers.web1.port', 'servers.web2.ip', 'servers.7.shape'],
    );
  });
});

describe('servers.yaml: a valid file', () => {
  test('keeps file order, applies defaults, resolves key paths, drops id', async () => {
    const dir = fixture('servers', 'valid');
    const inv = await loadServersFile(dir);
    assert.equal(inv.file, path.join(dir, 'servers.yaml'));
    const key = path.join(dir, 'ssh', 'test-key');
    assert.deepEqual(inv.servers, [
      { name: 'web2', ip: '10.0.0.2', sshKeyPath: key, sshKeyRef: 'ssh/test-key', username: 'root', port: 22, metadata: {} },
      {
        name: 'web1',
        ip: '2001:db8::1',
        sshKeyPath: key,
        sshKeyRef: './ssh/test-key',
        username: 'deploy',
        port: 2222,
        description: 'front end',
        metadata: { rack: 'b4', tags: ['edge', 'eu'] },
      },
      { name: '10', provider: 'hetzner', sshKeyPath: key, sshKeyRef: 'ssh/test-key', username: 'root', port: 22, metadata: {} },
    ]);
  });

  test('absolute ssh_key is kept; relative is resolved against the working dir', () => {
    const asked: string[] = [];
    const text = 'servers:\n  a: {ip: 10.0.0.1, ssh_key: /etc/keys/a}\n  b: {ip: 10.0.0.2, ssh_key: keys/../keys/b}\n';
    const inv = parseServersYaml(text, {
      file: '/proj/servers.yaml',
      workingDir: '/proj',
      fileExists: (abs) => (asked.push(abs), true),
    });
    assert.deepEqual(asked, ['/etc/keys/a', '/proj/keys/b']);
    assert.deepEqual(
      inv.servers.map((s) => [s.sshKeyPath, s.sshKeyRef]),
      [
        ['/etc/keys/a', '/etc/keys/a'],
        ['/proj/keys/b', 'keys/../keys/b'],
      ],
    );
  });

  test('names are kept as written, even when YAML would read them as numbers', () => {
    const text = 'servers:\n  0123: {ip: 10.0.0.1, ssh_key: k}\n  7: {ip: 10.0.0.2, ssh_key: k}\n';
    const inv = parseServersYaml(text, { file: 'servers.yaml', workingDir: '/p', fileExists: () => true });
    assert.deepEqual(inv.servers.map((s) => s.name), ['0123', '7']);
  });

  test('one IPv6 address written two ways is a duplicate address', () => {
    const text = "servers:\n  a: {ip: '2001:db8::1', ssh_key: k}\n  b: {ip: '2001:DB8:0:0::1', ssh_key: k}\n";
    assert.throws(
      () => parseServersYaml(text, { file: 'servers.yaml', workingDir: '/p', fileExists: () => true }),
      (error: unknown) => !!assertConfigError(error, 'servers.yaml: servers.b.ip: ', /also used by servers\.a/),
    );
  });
});

describe('servers.example.yaml', () => {
  const file = path.join(repoRoot, 'servers.example.yaml');

  test('starts with the schema modeline and parses', async () => {
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=./schema/servers.schema.json');
    const inv = parseServersYaml(text, { file, workingDir: repoRoot, fileExists: () => true });
    assert.ok(inv.servers.some((s) => s.provider === 'hetzner'), 'shows a hybrid entry');
  });

  test('uses and comments on every key of the schema', async () => {
    const text = await readFile(file, 'utf8');
    const data = parseYaml(text) as { servers: Record<string, Record<string, unknown>> };
    const entries = Object.values(data.servers);
    const entryKeys = Object.keys(serverEntrySchema.shape);
    assert.ok(entryKeys.length > 5, 'the key list comes from the schema');
    for (const key of Object.keys(serversFileSchema.shape)) assert.ok(key in data, `top-level key ${key} unused`);
    for (const key of entryKeys) assert.ok(entries.some((e) => key in e), `entry key ${key} unused`);
    for (const key of [...Object.keys(serversFileSchema.shape), ...entryKeys]) {
      assert.match(text, new RegExp(`^\\s*# ${key} -- `, 'm'), `no "# ${key} -- ..." comment`);
    }
    assert.ok(entries.some((e) => entryKeys.every((k) => k === 'provider' || k in e)), 'one entry shows every optional key');
    assert.ok(entries.some((e) => Object.keys(e).sort().join() === 'ip,ssh_key'), 'one entry is minimal');
  });
});

describe('schema/servers.schema.json', () => {
  test('matches what the zod schema produces now (regenerate: node scripts/export-schema.js)', async () => {
    const onDisk = await readFile(path.join(repoRoot, 'schema', 'servers.schema.json'), 'utf8');
    assert.equal(onDisk, renderServersJsonSchema());
  });
});

describe('servers.yaml: inventory attributes', () => {
  const opts = { file: '/p/servers.yaml', workingDir: '/p', fileExists: () => true };
  test('tags, role and tier are read (duplicate tags once)', () => {
    const inv = parseServersYaml('servers:\n  web1:\n    ip: 10.0.0.1\n    ssh_key: k\n    tags: [eu, canary, eu]\n    role: web\n    tier: prod\n  web2:\n    ip: 10.0.0.2\n    ssh_key: k\n', opts);
    assert.deepEqual(inv.servers.map((s) => [s.name, s.tags, s.role, s.tier]), [['web1', ['eu', 'canary'], 'web', 'prod'], ['web2', undefined, undefined, undefined]]);
  });
  test('a bad tag, role or tier is named by its path', () => {
    const cases: [string, string][] = [
      ['    tags: [eu, "a b"]\n', 'servers.yaml: servers.web1.tags[1]: '],
      ['    role: "web:1"\n', 'servers.yaml: servers.web1.role: '],
      ['    tier: [prod]\n', 'servers.yaml: servers.web1.tier: '],
    ];
    for (const [line, prefix] of cases) {
      let caught: unknown;
      try {
        parseServersYaml(`servers:\n  web1:\n    ip: 10.0.0.1\n    ssh_key: k\n${line}`, opts);
      } catch (error) {
        caught = error;
      }
      assertConfigError(caught, prefix, /is not a valid (tag|role|tier): use 1-63 letters/);
    }
  });
});
