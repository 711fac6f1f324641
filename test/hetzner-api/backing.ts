// Backs fake servers by real (sandbox) hosts through an external command, for `main.ts`:
// `CMD create <name>` must print the host's IPv4 on its last stdout line; `CMD delete <name>` removes it.

import { spawn } from 'node:child_process';
import type { ServerHooks } from './routes.js';

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** Runs `<command> <verb> <name>` through /bin/sh, so CMD may carry its own arguments. */
function runBacking(command: string, verb: 'create' | 'delete', name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The name travels as a positional parameter, never spliced into the script text.
    const child = spawn('/bin/sh', ['-c', `${command} "$@"`, 'backing', verb, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep only the tail: it is for the error message, and a chatty command must not grow memory.
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${verb} ${name} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

export function commandHooks(command: string): ServerHooks {
  return {
    onServerCreated: async (server) => {
      const lines = (await runBacking(command, 'create', server.name)).split('\n').map((line) => line.trim()).filter(Boolean);
      const ip = lines[lines.length - 1];
      if (ip === undefined || !IPV4.test(ip)) throw new Error(`create ${server.name} printed no IPv4 address on its last line`);
      return { ipv4: ip };
    },
    onServerDeleted: async (server) => {
      await runBacking(command, 'delete', server.name);
    },
  };
}
