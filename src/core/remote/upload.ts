import path from 'node:path';
import { UserError } from '../../domain/errors.js';
import type { LocalEntry, LocalFiles } from '../../ports/local-files.js';
import type { HostTarget, RemoteFiles } from '../../ports/remote-host.js';
import { forEachHost, type FanoutDeps, type HostOutcome } from './fanout.js';

/** Files up to this size are read once and sent to every host from memory; larger ones are streamed per host. */
const CACHE_LIMIT = 8 * 1024 * 1024;
/** Files in flight per host: enough to hide SFTP round trips. */
const FILES_IN_FLIGHT = 16;
/**
 * Bytes in flight across ALL hosts. Each byte sent is copied a few times on its way out (SFTP
 * request, encrypted packet, socket queue), so without a shared budget memory grows with the
 * number of hosts; with it, a 64-host upload needs no more than a 16-host one.
 */
const BYTES_IN_FLIGHT = 12 * 1024 * 1024;

export interface UploadSummary {
  readonly files: number;
  readonly bytes: number;
  readonly remotePath: string;
}

export function checkRemotePath(remotePath: string): string {
  if (!remotePath.startsWith('/')) throw new UserError(`--remote-path: ${JSON.stringify(remotePath)} must be an absolute path`);
  if (remotePath.includes('\0')) throw new UserError('--remote-path: contains a NUL byte');
  return path.posix.normalize(remotePath);
}

/**
 * Uploads files and folders to every target over SFTP (upstream's `upload`): each top-level path
 * keeps its name under `remotePath`, modes are kept, and each file is written to a temporary name
 * and renamed, so a reader on the node never sees half a file.
 */
export async function uploadTree(
  deps: FanoutDeps & { local: LocalFiles },
  params: { targets: readonly HostTarget[]; paths: readonly string[]; remotePath: string; concurrency: number },
): Promise<HostOutcome<UploadSummary>[]> {
  const remoteRoot = checkRemotePath(params.remotePath);
  const { entries, skipped } = await deps.local.walk(params.paths);
  for (const item of skipped) deps.reporter.emit({ kind: 'warning', message: `skipped ${item} (a link to a folder, or not a regular file)` });
  const files = entries.filter((e) => !e.isDirectory);
  const cache = new Map<string, Promise<Buffer>>();
  const content = (entry: LocalEntry): Buffer | Promise<Buffer> | ReturnType<LocalFiles['stream']> => {
    if (entry.size > CACHE_LIMIT) return deps.local.stream(entry.absPath);
    let cached = cache.get(entry.absPath);
    if (cached === undefined) {
      cached = deps.local.read(entry.absPath);
      cache.set(entry.absPath, cached);
    }
    return cached;
  };
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const budget = byteBudget(BYTES_IN_FLIGHT);

  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const sftp = await host.files();
    await sftp.mkdirp(remoteRoot);
    for (const dir of entries.filter((e) => e.isDirectory)) await sftp.mkdirp(path.posix.join(remoteRoot, dir.relPath), dir.mode);
    let done = 0;
    await inBatches(files, FILES_IN_FLIGHT, async (file) => {
      await budget(file.size, async () => send(sftp, path.posix.join(remoteRoot, file.relPath), await content(file), file.mode));
      done += 1;
      deps.reporter.emit({ kind: 'transfer', host: host.target.name, done, total: files.length, path: file.relPath });
    });
    deps.reporter.emit({ kind: 'step', host: host.target.name, message: `uploaded ${files.length} file(s), ${bytes} bytes to ${remoteRoot}` });
    return { files: files.length, bytes, remotePath: remoteRoot };
  });
}

function send(sftp: RemoteFiles, remotePath: string, data: Buffer | ReturnType<LocalFiles['stream']>, mode: number): Promise<void> {
  return sftp.writeFile(remotePath, data, mode);
}

/** Runs `work` over `items` with at most `limit` in flight; the first error wins. */
async function inBatches<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * A shared allowance of bytes: `run` waits until `size` bytes (capped at the whole budget, so a
 * file larger than the budget still goes, alone) are free, and gives them back when it is done.
 */
function byteBudget(total: number): (size: number, run: () => Promise<void>) => Promise<void> {
  let free = total;
  const waiting: Array<() => void> = [];
  const wake = (): void => {
    while (waiting.length > 0 && free > 0) (waiting.shift() as () => void)();
  };
  return async (size, run) => {
    const need = Math.min(Math.max(size, 1), total);
    while (free < need) await new Promise<void>((resolve) => waiting.push(resolve));
    free -= need;
    try {
      await run();
    } finally {
      free += need;
      wake();
    }
  };
}
