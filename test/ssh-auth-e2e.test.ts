import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { runCli } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const exec = promisify(execFile);
const skip = canRunSandbox() ? false : 'sandbox hosts need root';

describe('SSH authentication and display on sandbox hosts', { skip, timeout: 60_000 }, () => {
  it('a passphrase-protected key works through ssh-agent, and without an agent says what to do', async (t) => {
    const dir = await tempDir(t, 'nix-infra-agent-');
    const sandbox = await startSandbox(t, { hosts: 1, project: dir });
    const key = path.join(dir, 'ssh', 'locked');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'key-passphrase', '-C', 'locked', '-f', key]);
    const pub = (await readFile(`${key}.pub`, 'utf8')).trim();
    await sandbox.exec('node001', ['sh', '-c', `printf '%s\\n' '${pub}' >> /root/.ssh/authorized_keys`]);
    const yaml = (await readFile(path.join(dir, 'servers.yaml'), 'utf8')).replace(/ssh_key: .*/, `ssh_key: ${key}`);
    await writeFile(path.join(dir, 'servers.yaml'), yaml);

    const noAgent = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001', 'true']);
    assert.equal(noAgent.code, 1);
    assert.match(noAgent.stderr, /protected by a passphrase/);
    assert.match(noAgent.stderr, /ssh-add/);

    // A real ssh-agent, loaded non-interactively through SSH_ASKPASS.
    const socket = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    t.after(() => agent.kill());
    for (let i = 0; i < 100; i++) {
      if (await readFile(socket).then(() => true, (e: NodeJS.ErrnoException) => e.code !== 'ENOENT')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const askpass = path.join(dir, 'askpass.sh');
    await writeFile(askpass, '#!/bin/sh\necho key-passphrase\n');
    await chmod(askpass, 0o700);
    await exec('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' } });

    const viaAgent = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001', 'echo agent-ok'], { env: { SSH_AUTH_SOCK: socket } });
    assert.equal(viaAgent.code, 0, viaAgent.stderr);
    assert.match(viaAgent.stdout, /^node001: agent-ok$/m);
  });

  it('on a terminal, shows a task per host and then the output', async (t) => {
    const dir = await tempDir(t, 'nix-infra-tty-');
    await startSandbox(t, { hosts: 2, project: dir });
    const spec = {
      argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), 'fleet', 'cmd', '-d', dir, '--target', 'node001 node002', 'echo tty-$(hostname)'],
      size: [40, 120],
      answers: [],
    };
    const { stdout } = await exec('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), JSON.stringify(spec)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color' },
    });
    const result = JSON.parse(stdout) as { exit: number; transcript: string };
    assert.equal(result.exit, 0, result.transcript);
    assert.match(result.transcript, /cmd: echo tty-\$\(hostname\)/, 'the task list title');
    // listr2 marks finished tasks with a check mark next to the host name.
    assert.match(result.transcript, /✔.*node001/);
    assert.match(result.transcript, /✔.*node002/);
    assert.match(result.transcript, /node001: tty-node001/);
    assert.match(result.transcript, /node002: tty-node002/);
    assert.match(result.transcript, /2 ok/);
  });
});

