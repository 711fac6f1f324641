// What every benchmark here shares: one command timed by GNU time, and the median of samples.
import { spawnSync } from 'node:child_process';

/**
 * Wall seconds, peak RSS (MB), exit status and output of one command, via GNU time. Throws
 * unless the exit status is one of `ok` (pass null to accept any).
 */
export function timed(argv, options = {}, ok = [0]) {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  if (ok !== null && !ok.includes(result.status)) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const [wall, kb] = result.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, rssMb: kb / 1024, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
