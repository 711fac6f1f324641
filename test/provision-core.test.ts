import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertNodes } from '../src/core/provision/convert-nodes.js';
import type { ConversionPlan } from '../src/core/provision/convert-host.js';
import type { ProgressEvent } from '../src/ports/reporter.js';
import type { ConnectOptions, ExecResult, HostConnector, HostTarget, RemoteCommand, RemoteHost } from '../src/ports/remote-host.js';
import { HOST_FACTS_SCRIPT, parseHostFacts, parseOsRelease } from '../src/remote/host-facts.js';
import { HostKeyMismatch } from '../src/domain/errors.js';
import { checkInfectSource, DEFAULT_INFECT_REF, DEFAULT_INFECT_SOURCE, FIRST_REBUILD, installCommand, READ_NIXOS_HOST_KEY, REBOOT_SOON } from '../src/remote/nixos-install.js';

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const NIXOS = 'ID=nixos\nVERSION_ID="25.05"\nPRETTY_NAME="NixOS 25.05 (Warbler)"\n';

/** One simulated machine: what the facts script reports, and how conversion steps answer. */
interface Machine {
  bootId: string;
  osRelease: string;
  marker: boolean;
  nixosVersion: string;
  route: string;
  arch: string;
  memKb: number;
  infectExit: number;
  /** How many install attempts fail before one succeeds (with infectExit 0). */
  infectFailsTimes?: number;
  rebuildExit: number;
  /** Connection attempts that fail after a reboot before the machine answers again. */
  downFor: number;
  /** Reboots do not happen (the machine hangs): the boot id never changes. */
  neverReboots?: boolean;
  /** The ed25519 host key it presents (base64 blob); the install step keeps it through the reboot. */
  hostKey: string;
  /** What the conversion turns it into at the next boot. */
  afterBoot?: Partial<Machine>;
  log: string[];
}

function machine(overrides: Partial<Machine> = {}): Machine {
  return { bootId: 'boot-1', osRelease: DEBIAN, marker: false, nixosVersion: '', route: 'default via 172.31.1.1 dev eth0', arch: 'x86_64', memKb: 4_000_000, infectExit: 0, rebuildExit: 0, downFor: 1, hostKey: ed25519Blob(1), log: [], ...overrides };
}

/** A well-formed ssh-ed25519 key blob whose 32 key bytes are all `fill`. */
function ed25519Blob(fill: number): string {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(32), Buffer.alloc(32, fill)]).toString('base64');
}

function facts(m: Machine): string {
  return `arch=${m.arch}\nmem_kb=${m.memKb}\nboot_id=${m.bootId}\nnixos_marker=${m.marker ? 'yes' : 'no'}\nnixos_version=${m.nixosVersion}\ndefault_route=${m.route}\n--- os-release ---\n${m.osRelease}`;
}

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) });
const fail = (code: number, stderr: string): ExecResult => ({ exitCode: code, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) });

function fakeConnector(machines: Map<string, Machine>) {
  const pinned: string[] = [];
  const expected: string[] = [];
  let boots = 1;
  const hosts = new WeakMap<RemoteHost, string>();
  const connector: HostConnector = {
    async connect(target: HostTarget, options: ConnectOptions = {}) {
      const m = machines.get(target.name) as Machine;
      if (m.downFor > 0 && m.log.includes('reboot') && !m.log.includes('up')) {
        m.downFor -= 1;
        throw new Error(`${target.name}: cannot connect: connection refused`);
      }
      if (m.log.includes('reboot') && !m.log.includes('up')) m.log.push('up');
      if (typeof options.hostKey === 'object') {
        expected.push(`${target.name} ${options.hostKey.expect.base64 === m.hostKey ? 'same key' : 'other key'}`);
        if (options.hostKey.expect.base64 !== m.hostKey) throw new HostKeyMismatch(`${target.name}: presented another host key`, ['expected: ...']);
      }
      const host: RemoteHost = {
        target,
        async exec(command: RemoteCommand) {
          if ('script' in command && command.script === HOST_FACTS_SCRIPT) return ok(facts(m));
          if ('script' in command && command.script === REBOOT_SOON.script) {
            m.log.push('reboot');
            if (!m.neverReboots) {
              boots += 1;
              Object.assign(m, { bootId: `boot-${boots}` }, m.afterBoot ?? {});
            }
            return ok();
          }
          if ('argv' in command && command.argv[0] === 'env') {
            m.log.push(`install ${command.argv.filter((a) => a.startsWith('NIX_CHANNEL') || a.startsWith('PROVIDER')).join(' ')}`);
            if ((m.infectFailsTimes ?? 0) > 0) {
              m.infectFailsTimes = (m.infectFailsTimes ?? 0) - 1;
              return fail(1, 'curl: (6) Could not resolve host\n');
            }
            return m.infectExit === 0 ? ok('install-nixos: done\n') : fail(m.infectExit, 'curl: (6) Could not resolve host\n');
          }
          if ('argv' in command && command.argv.join(' ') === READ_NIXOS_HOST_KEY.argv.join(' ')) return ok(`ssh-ed25519 ${m.hostKey} root@${target.name}\n`);
          if ('argv' in command && command.argv.join(' ') === FIRST_REBUILD.argv.join(' ')) {
            m.log.push('rebuild');
            return m.rebuildExit === 0 ? ok() : fail(m.rebuildExit, "error: attribute 'foo' missing\n");
          }
          throw new Error(`unexpected command ${JSON.stringify(command)}`);
        },
        async files() {
          return {
            stat: async () => undefined,
            mkdirp: async () => undefined,
            remove: async () => undefined,
            writeFile: async (path: string) => void m.log.push(`write ${path}`),
          };
        },
        forward: async () => {
          throw new Error('not used');
        },
        shell: async () => {
          throw new Error('not used');
        },
        closed: new Promise(() => undefined),
        close: () => undefined,
      };
      hosts.set(host, target.name);
      return host;
    },
    async pinHostKey(pinTarget, key) {
      const m = machines.get(pinTarget.name) as Machine;
      pinned.push(`${pinTarget.name} ${key.base64 === m.hostKey ? 'its key' : 'another key'} after ${m.log.at(-1)}`);
    },
    forgetHostKey: async () => undefined,
    closeAll: async () => undefined,
  };
  return { connector, pinned, expected };
}

function target(name: string): HostTarget {
  return { name, address: '192.0.2.1', port: 22, username: 'root', keyPath: '/k' };
}

const converted = { osRelease: NIXOS, marker: true, nixosVersion: '25.05.20250101.abcdef (Warbler)' };

function plan(overrides: Partial<ConversionPlan> = {}): ConversionPlan {
  return {
    configuration: '{ }',
    installScript: Buffer.from('#!/bin/sh\n'),
    install: { nixosVersion: '25.05', source: { base: DEFAULT_INFECT_SOURCE, ref: DEFAULT_INFECT_REF }, staticNetwork: true },
    rebootTimeoutMs: 60_000,
    rebootPollMs: 2000,
    ...overrides,
  };
}

/** A manual clock that `sleep` advances, so waiting costs no real time. */
function clock() {
  let t = 0;
  return { now: () => new Date(t), sleep: async (ms: number) => void (t += ms), elapsed: () => t };
}

function run(machines: Map<string, Machine>, overrides: Partial<ConversionPlan> = {}, retries = 2) {
  const fake = fakeConnector(machines);
  const events: ProgressEvent[] = [];
  const c = clock();
  const done = convertNodes(
    { connector: fake.connector, reporter: { emit: (e) => events.push(e) }, now: c.now, sleep: c.sleep },
    { targets: [...machines.keys()].map(target), planFor: () => plan(overrides), concurrency: 4, retries },
  );
  return { done, fake, events, clock: c };
}

describe('NixOS conversion (core, simulated machines)', () => {
  it('converts, waits for a new boot id, pins the key only after verification, then rebuilds', async () => {
    const m = machine({ afterBoot: converted, downFor: 3 });
    const { done, fake } = run(new Map([['web1', m]]));
    const [outcome] = await done;
    assert.equal(outcome?.ok, true, outcome?.error);
    assert.equal(outcome?.value?.status, 'converted');
    assert.equal(outcome?.value?.before, 'Debian GNU/Linux 12 (bookworm)');
    assert.deepEqual(
      m.log.filter((l) => !l.startsWith('write')),
      ['install NIX_CHANNEL=nixos-25.05', 'reboot', 'up', 'rebuild'],
    );
    assert.deepEqual(fake.pinned, ['web1 its key after up'], 'pinned after the machine came back and before the rebuild');
    assert.deepEqual(fake.expected, ['web1 same key'], 'only the post-reboot connection demanded the key read before the reboot');
  });

  it('after the reboot only the key read before it is accepted: another machine on the address fails the host at once, unpinned, unretried', async () => {
    // What answers after the reboot has another key: an impostor on the node's address.
    const m = machine({ afterBoot: { ...converted, hostKey: ed25519Blob(2) } });
    const { done, fake } = run(new Map([['web1', m]]));
    const [outcome] = await done;
    assert.equal(outcome?.ok, false);
    assert.match(outcome?.error ?? '', /after the reboot, 192\.0\.2\.1 presented another host key than the one read before it: refused/);
    assert.deepEqual(fake.pinned, [], 'nothing pinned');
    assert.deepEqual(fake.expected, ['web1 other key'], 'refused on the first answer, no retry round');
    assert.ok(!m.log.includes('rebuild'), 'nothing ran there');
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 1, 'not retried');
  });

  it('leaves a machine that already runs NixOS alone', async () => {
    const m = machine({ ...converted });
    const [outcome] = await run(new Map([['web1', m]])).done;
    assert.equal(outcome?.value?.status, 'already-nixos');
    assert.deepEqual(m.log, []);
  });

  it('detects "not converted" on any distribution: a machine that reboots into its old system fails, and is retried', async () => {
    const m = machine({ osRelease: 'ID=rocky\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n' });
    const { done, events } = run(new Map([['web1', m]]), {}, 1);
    const [outcome] = await done;
    assert.equal(outcome?.ok, false);
    assert.match(outcome?.error ?? '', /still running Rocky Linux 9\.4 \(Blue Onyx\): the conversion did not take/);
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 2, 'one retry round');
    assert.ok(events.some((e) => e.kind === 'warning' && /retrying \(1 of 1\)/.test(e.message)));
  });

  it('retries only the host that failed; the others are converted once', async () => {
    const good = machine({ afterBoot: converted });
    // The download fails once, then works.
    const flaky = machine({ infectFailsTimes: 1, afterBoot: converted });
    const { done } = run(
      new Map([
        ['good', good],
        ['flaky', flaky],
      ]),
    );
    const outcomes = await done;
    assert.deepEqual(outcomes.map((o) => [o.host, o.ok]), [['good', true], ['flaky', true]]);
    assert.equal(good.log.filter((l) => l.startsWith('install')).length, 1);
    assert.equal(flaky.log.filter((l) => l.startsWith('install')).length, 2);
  });

  it('does not retry what cannot pass: unsupported architecture, too little memory, a rebuild that fails', async () => {
    const arm32 = machine({ arch: 'armv7l' });
    const tiny = machine({ memKb: 300 * 1024 });
    const broken = machine({ afterBoot: converted, rebuildExit: 1 });
    const outcomes = await run(
      new Map([
        ['arm32', arm32],
        ['tiny', tiny],
        ['broken', broken],
      ]),
    ).done;
    assert.match(outcomes[0]?.error ?? '', /architecture armv7l is not supported/);
    assert.match(outcomes[1]?.error ?? '', /300 MiB of memory is too little/);
    assert.match(outcomes[2]?.error ?? '', /nixos-rebuild switch failed \(exit 1\)/);
    assert.deepEqual(outcomes[2]?.details, ["error: attribute 'foo' missing"]);
    assert.deepEqual(arm32.log, [], 'nothing was changed on a refused machine');
    assert.equal(broken.log.filter((l) => l === 'rebuild').length, 1, 'not retried');
  });

  it('a machine that never comes back fails with what was waited for, after the timeout on the injected clock', async () => {
    const m = machine({ neverReboots: true });
    const { done, clock: c } = run(new Map([['web1', m]]), { rebootTimeoutMs: 20_000, rebootPollMs: 2000 }, 0);
    const [outcome] = await done;
    assert.match(outcome?.error ?? '', /did not come back from the reboot within 20 s \(waited for a boot id other than boot-1\)/);
    assert.deepEqual(outcome?.details, ['last: it answered with the old boot id (the reboot had not started)']);
    assert.ok(c.elapsed() >= 20_000);
  });

  it('a conversion that loses the default route fails, and the key is not pinned', async () => {
    const m = machine({ afterBoot: { ...converted, route: '' } });
    const { done, fake } = run(new Map([['web1', m]]));
    const [outcome] = await done;
    assert.match(outcome?.error ?? '', /lost its default route/);
    assert.deepEqual(fake.pinned, []);
  });

  it('with a mutation: converts in place, no reboot, no rebuild', async () => {
    const m = machine();
    const [outcome] = await run(new Map([['web1', m]]), {
      install: { nixosVersion: '25.05', source: { base: DEFAULT_INFECT_SOURCE, ref: DEFAULT_INFECT_REF }, staticNetwork: true, mutation: 'ki' },
    }).done;
    assert.equal(outcome?.value?.status, 'mutated');
    assert.ok(!m.log.includes('reboot'));
  });
});

describe('conversion builders', () => {
  it('installCommand passes every input as its own argv element', () => {
    assert.deepEqual(
      installCommand({ nixosVersion: '25.05', source: { base: 'https://example.org/infect/', ref: 'abc123', sha256: 'a'.repeat(64) }, staticNetwork: true, cloud: 'hetznercloud' }).argv,
      [
        'env',
        'NIX_CHANNEL=nixos-25.05',
        'NO_REBOOT=1',
        'NIX_INFRA_INFECT_URL=https://example.org/infect/abc123/nixos-infect',
        'NIX_INFRA_MUTATION=0',
        `NIX_INFRA_INFECT_SHA256=${'a'.repeat(64)}`,
        'doNetConf=y',
        'PROVIDER=hetznercloud',
        'bash',
        '/root/nix-infra-provision/install-nixos.sh',
      ],
    );
    assert.deepEqual(
      installCommand({ nixosVersion: 'unstable', source: { base: 'file:///srv/infect', ref: 'v1' }, staticNetwork: false, mutation: 'ki-dev' }).argv.slice(1, 5),
      ['NIX_CHANNEL=nixos-unstable', 'NO_REBOOT=1', 'NIX_INFRA_INFECT_URL=file:///srv/infect/v1/mutations/ki-dev', 'NIX_INFRA_MUTATION=1'],
    );
  });

  it('refuses versions, refs, mutations and sources that could smuggle paths or commands', () => {
    const base = { base: DEFAULT_INFECT_SOURCE, ref: DEFAULT_INFECT_REF };
    assert.throws(() => installCommand({ nixosVersion: '25.05; rm -rf /', source: base, staticNetwork: true }), /--nixos-version must be a NixOS release/);
    assert.throws(() => installCommand({ nixosVersion: '25.05', source: { ...base, ref: '../../evil' }, staticNetwork: true }), /--nixos-infect-ref/);
    assert.throws(() => installCommand({ nixosVersion: '25.05', source: base, staticNetwork: true, mutation: '../x' }), /--mutation must be a plain name/);
    assert.throws(() => checkInfectSource({ base: 'ftp://x', ref: 'a' }), /https, http or file URL/);
    assert.throws(() => checkInfectSource({ ...base, sha256: 'xyz' }), /64 lowercase hex/);
    assert.throws(() => checkInfectSource({ base: 'http://mirror.example/infect', ref: DEFAULT_INFECT_REF }), /an http nixos-infect source needs --nixos-infect-sha256/);
    assert.throws(() => checkInfectSource({ base: DEFAULT_INFECT_SOURCE, ref: 'master' }), /a tag or branch nixos-infect source needs --nixos-infect-sha256/);
    assert.doesNotThrow(() => checkInfectSource({ base: DEFAULT_INFECT_SOURCE, ref: 'master', sha256: 'a'.repeat(64) }));
    assert.match(DEFAULT_INFECT_REF, /^[0-9a-f]{40}$/, 'the default is a commit, never a branch');
  });

  it('parses the facts script output and os-release quoting', () => {
    const parsed = parseHostFacts(facts(machine({ memKb: 2_048_000 })));
    assert.equal(parsed.memoryMiB, 2000);
    assert.equal(parsed.os.id, 'debian');
    assert.equal(parsed.os.prettyName, 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(parsed.defaultRoute, 'default via 172.31.1.1 dev eth0');
    assert.deepEqual(parseOsRelease("ID='opensuse-leap'\nVERSION_ID=\"15.6\"\n"), { id: 'opensuse-leap', versionId: '15.6', prettyName: 'opensuse-leap 15.6' });
    assert.deepEqual(parseOsRelease(''), { id: '', versionId: '', prettyName: '' });
  });
});
