import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from './support/repo.js';
import { fetchThrough, runCliOnTerminals, startPortForward } from './support/cli.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const exec = promisify(execFile);
const skip = canRunSandbox() ? false : 'sandbox hosts need root';

describe('interactive commands on sandbox hosts', { skip, timeout: 60_000 }, () => {
  it('ssh opens a shell whose terminal follows the local window size, and returns its exit code', async (t) => {
    const dir = await tempDir(t, 'nix-infra-ssh-');
    await startSandbox(t, { hosts: 1, project: dir });
    const spec = {
      argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), 'fleet', 'ssh', '-d', dir, '--target', 'node001'],
      size: [30, 100],
      // Each step waits for what the previous one must have printed, never for time.
      answers: [
        ['#', 'stty size'],
        ['30 100', { resize: [40, 120] }],
        ['#', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(stty size)" = "40 120" ] && break; sleep 0.1; done; stty size; hostname'],
        ['40 120', 'exit 7'],
      ],
    };
    const { stdout } = await exec('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), JSON.stringify(spec)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm' },
    });
    const result = JSON.parse(stdout) as { exit: number; transcript: string };
    assert.match(result.transcript, /^30 100\r?$/m);
    assert.match(result.transcript, /^40 120\r?$/m);
    assert.match(result.transcript, /^node001\r?$/m);
    assert.equal(result.exit, 7);
  });

  it('port-forward carries local connections to a port on the node, and stops cleanly on SIGINT', async (t) => {
    const dir = await tempDir(t, 'nix-infra-pf-');
    const sandbox = await startSandbox(t, { hosts: 1, project: dir });
    await sandbox.exec('node001', ['sh', '-c', 'mkdir -p /srv/www && echo hello-from-node001 > /srv/www/index.html']);
    await sandbox.exec('node001', ['sh', '-c', 'cd /srv/www && nohup python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &']);

    const forward = await startPortForward(['fleet', 'port-forward', '-d', dir, '--target', 'node001', '--local-port', '0', '--remote-port', '8080'], {});
    assert.equal((await fetchThrough(forward.port)).trim(), 'hello-from-node001');
    assert.equal(await forward.stop(), 0, forward.stderr());
    const stderr = forward.stderr();
    assert.match(stderr, /Forwarding stopped/);
  });

  it('cmd on terminals: a task list on stderr, remote stdout on stdout and remote stderr on stderr', async (t) => {
    const dir = await tempDir(t, 'nix-infra-tty-');
    await startSandbox(t, { hosts: 2, project: dir });
    const run = await runCliOnTerminals(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002', 'echo "out-$(hostname)"; echo "err-$(hostname)" >&2']);
    assert.equal(run.code, 0, run.stderr);
    for (const node of ['node001', 'node002']) {
      assert.match(run.stdout, new RegExp(`^${node}: out-${node}$`, 'm'));
      assert.match(run.stderr, new RegExp(`^${node}: err-${node}$`, 'm'));
      assert.doesNotMatch(run.stdout, new RegExp(`err-${node}`), 'remote stderr is not on stdout');
    }
    assert.match(run.stderr, /^2 ok$/m);
    assert.doesNotMatch(run.stdout, /2 ok|cmd: echo/, 'the task list and the summary are not on stdout');
  });
});
