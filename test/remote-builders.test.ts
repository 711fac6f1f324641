import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { mergeEnvAssignments, parseEnvFile, parseEnvVars } from '../src/core/remote/action.js';
import { nodeAddressResolver, substitutePlaceholders } from '../src/core/placeholders.js';
import { parseFileList, parseTargetList, resolveTargets } from '../src/core/targets.js';
import { UserError } from '../src/domain/errors.js';
import { fingerprint, formatLine, hostPattern, keysFor, withoutHost } from '../src/remote/known-hosts.js';
import { commandLine, shellQuote } from '../src/remote/shell-quote.js';
import { argvFromWords, splitWords } from '../src/domain/shell-words.js';
import { tempDir } from './support/repo.js';

const exec = promisify(execFile);

describe('shell quoting', () => {
  it('leaves plain words alone and single-quotes everything else', () => {
    assert.equal(shellQuote('nixos-rebuild'), 'nixos-rebuild');
    assert.equal(shellQuote('/etc/nixos/a.nix'), '/etc/nixos/a.nix');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(commandLine(['env', 'A=$(id)', 'bash', '/tmp/x.sh']), "env 'A=$(id)' bash /tmp/x.sh");
  });

  it('a real sh receives every nasty argument byte for byte', async () => {
    const nasty = ['a;b', '$(touch /tmp/nope)', '`id`', "it's", 'two\nlines', '"dq"', '\\back', '*', '~', '-n', ''];
    const { stdout } = await exec('sh', ['-c', `printf '%s\\0' ${commandLine(nasty)}`]);
    assert.deepEqual(stdout.split('\0').slice(0, -1), nasty);
  });

  it('refuses a NUL byte', () => {
    assert.throws(() => shellQuote('a\0b'), UserError);
  });

  it('splits --cmd like a shell would for quoting, without expanding anything', () => {
    assert.deepEqual(splitWords(`create-db 'my db' "x y" a\\ b $(id) \`id\``), ['create-db', 'my db', 'x y', 'a b', '$(id)', '`id`']);
    assert.deepEqual(splitWords('  '), []);
    assert.deepEqual(splitWords("''"), ['']);
    assert.throws(() => splitWords("'open"), /unterminated/);
    assert.throws(() => splitWords('get "/a'), UserError);
  });
});

describe('shell words (etcd ctl "del --prefix /cluster/services", action --cmd)', () => {
  // What sh itself makes of each string, with globbing off and nothing that would expand: the
  // splitter must agree with it word for word.
  const cases = [
    'del --prefix /cluster/services',
    '  get	/cluster/nodes/a   --print-value-only ',
    `put /k '{"a": "b c"}'`,
    String.raw`put /k "it's \"quoted\""`,
    String.raw`a\ b c\\d '' ""`,
    String.raw`"back\slash \q" '\n stays'`,
    'one\\\ntwo "x\\\ny" end\\',
    'glob * ? [ab] {a,b}',
    `mixed"dq"'sq'plain`,
  ];
  for (const input of cases) {
    it(`agrees with sh: ${JSON.stringify(input)}`, async () => {
      const { stdout } = await exec('sh', ['-c', `set -f; printf '%s\\0' ${input}`]);
      assert.deepEqual(splitWords(input), stdout.split('\0').slice(0, -1));
    });
  }

  it('expands nothing: variables, commands, tildes, comments and operators stay text', () => {
    assert.deepEqual(splitWords('get $HOME ~ `id` $(id) #c a;b "$x"'), ['get', '$HOME', '~', '`id`', '$(id)', '#c', 'a;b', '$x']);
  });

  it('one argument is split, several are the argv already', () => {
    assert.deepEqual(argvFromWords(['del --prefix /cluster/services']), ['del', '--prefix', '/cluster/services']);
    assert.deepEqual(argvFromWords(['get', '/a b']), ['get', '/a b']);
    assert.deepEqual(argvFromWords(['member']), ['member']);
    assert.deepEqual(argvFromWords([]), []);
  });
});

describe('known_hosts', () => {
  const key = { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIFzpvxth50sHlaLflDgfzOLHtU2QGmLKomfzZUu7PDZW' };

  it('names hosts as OpenSSH does', () => {
    assert.equal(hostPattern('10.0.0.1', 22), '10.0.0.1');
    assert.equal(hostPattern('10.0.0.1', 2222), '[10.0.0.1]:2222');
  });

  it('finds plain and hashed entries, and removes only the named host', () => {
    const text = `# comment\n10.0.0.1 ${key.type} ${key.base64}\n[10.0.0.2]:2222 ${key.type} other\n`;
    assert.deepEqual(keysFor(text, '10.0.0.1'), [key]);
    assert.deepEqual(keysFor(text, '10.0.0.9'), []);
    assert.equal(keysFor(withoutHost(text, '10.0.0.1'), '10.0.0.1').length, 0);
    assert.equal(keysFor(withoutHost(text, '10.0.0.1'), '[10.0.0.2]:2222').length, 1);
  });

  it('agrees with ssh-keygen on fingerprints and on hashed lookups', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'known_hosts');
    await writeFile(file, formatLine('10.9.8.7', key));
    const printed = await exec('ssh-keygen', ['-l', '-f', file]);
    assert.ok(printed.stdout.includes(fingerprint(key)), printed.stdout);
    await exec('ssh-keygen', ['-H', '-f', file]);
    const hashed = (await exec('cat', [file])).stdout;
    assert.match(hashed, /^\|1\|/);
    assert.deepEqual(keysFor(hashed, '10.9.8.7'), [key]);
    const found = await exec('ssh-keygen', ['-F', '10.9.8.7', '-f', file]);
    assert.match(found.stdout, /found: line 1/);
  });
});

describe('targets and flag lists', () => {
  const servers = [
    { name: 'web1', address: '10.0.0.1', port: 22, username: 'root', provider: 'self-hosted', keyPath: '/k' },
    { name: 'web2', address: '10.0.0.2', port: 2222, username: 'ops', provider: 'self-hosted' },
    { name: 'cloud1', address: undefined, port: 22, username: 'root', provider: 'hetzner' },
  ];

  it('accepts upstream spaces, commas and repeats, keeping order without duplicates', () => {
    assert.deepEqual(parseTargetList(['web1  web2', 'web1,cloud1', '']), ['web1', 'web2', 'cloud1']);
    assert.deepEqual(parseFileList(['a b']), ['a', 'b']);
    assert.deepEqual(parseFileList(['a b', 'c']), ['a b', 'c']);
  });

  it('resolves names with per-server keys and a default key', () => {
    assert.deepEqual(resolveTargets(servers, ['web2', 'web1'], '/default'), [
      { name: 'web2', address: '10.0.0.2', port: 2222, username: 'ops', keyPath: '/default' },
      { name: 'web1', address: '10.0.0.1', port: 22, username: 'root', keyPath: '/k' },
    ]);
  });

  it('refuses unknown names listing the known ones, bad names, missing addresses and keys', () => {
    assert.throws(() => resolveTargets(servers, ['web1', 'nope'], '/k'), (e: unknown) => e instanceof UserError && /nope/.test(e.message) && e.hints.some((h) => h.includes('web1, web2, cloud1')));
    assert.throws(() => resolveTargets(servers, ['a;b'], '/k'), /not a valid node name/);
    assert.throws(() => resolveTargets(servers, ['cloud1'], '/k'), /no address/);
    assert.throws(() => resolveTargets(servers, ['web2'], undefined), /no SSH key/);
    assert.throws(() => resolveTargets(servers, [], '/k'), /no target/);
  });
});

describe('action inputs', () => {
  it('--env-vars splits items on commas and each at its first "="', () => {
    assert.deepEqual(parseEnvVars(['A=1,B=x=y z', 'C=']), [
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y z' },
      { name: 'C', value: '' },
    ]);
    assert.throws(() => parseEnvVars(['NOEQUALS']), UserError);
    assert.throws(() => parseEnvVars(['BAD-NAME=1']), UserError);
    assert.throws(() => parseEnvVars(['$(id)=1']), UserError);
  });

  it('reads --env-vars-file lines literally and refuses a bad line by number, without its value', () => {
    assert.deepEqual(parseEnvFile('# comment\nA=1,B=2\r\n\n  # indented comment\nC= "quoted" = kept \n', '--env-vars-file'), [
      { name: 'A', value: '1,B=2' },
      { name: 'C', value: ' "quoted" = kept ' },
    ]);
    assert.throws(() => parseEnvFile('A=1\nhunter2\n', '--env-vars-file'), (err: Error) => err.message === '--env-vars-file: line 2 is not NAME=value (NAME made of letters, digits and _, not starting with a digit)');
    assert.throws(() => mergeEnvAssignments([{ name: 'A', value: 'secret' }], [{ name: 'A', value: 'other' }]), (err: Error) => !err.message.includes('secret') && /A is given twice/.test(err.message));
  });

  it('resolves node and localhost placeholders and refuses unknown ones with their place', () => {
    const resolve = nodeAddressResolver([{ name: 'db1', address: '10.0.0.5' }], { name: 'web1', address: '10.0.0.1' });
    assert.equal(substitutePlaceholders('h=[%%db1.ipv4%%] me=[%%localhost.hostname%%]/[%%localhost.ipv4%%]', resolve, 'x'), 'h=10.0.0.5 me=web1/10.0.0.1');
    assert.throws(() => substitutePlaceholders('a\nb [%%db1.overlayIp%%]', resolve, 'nodes/web1.nix'), /nodes\/web1\.nix:2: unknown placeholder \[%%db1\.overlayIp%%\]/);
  });
});
