// Stand-alone fake Hetzner Cloud API for demos and benchmarks:
//   node dist/test/hetzner-api/main.js [--port N] [--token T] [--latency-ms N] [--action-ms N]
//                                      [--rate-limit N] [--backing-command CMD]
// Prints `HCLOUD_ENDPOINT=http://127.0.0.1:<port>/v1` once listening, serves until SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import { commandHooks } from './backing.js';
import { startHetznerApi } from './server.js';

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${flag} expects a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      token: { type: 'string' },
      'latency-ms': { type: 'string' },
      'action-ms': { type: 'string' },
      'rate-limit': { type: 'string' },
      'backing-command': { type: 'string' },
    },
    strict: true,
  });
  const backing = values['backing-command'];
  const api = await startHetznerApi({
    port: count(values.port, '--port'),
    token: values.token,
    latencyMs: count(values['latency-ms'], '--latency-ms'),
    actionMs: count(values['action-ms'], '--action-ms'),
    rateLimit: count(values['rate-limit'], '--rate-limit'),
    ...(backing ? commandHooks(backing) : {}),
  });
  process.stdout.write(`HCLOUD_ENDPOINT=${api.endpoint}\n`);

  const stop = (): void => {
    void api.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`hetzner-api: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
