import path from 'node:path';
import { UserError } from '../../domain/errors.js';
import type { LocalEntry, LocalFiles } from '../../ports/local-files.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { createBudget, forEachLimited } from '../../util/concurrency.js';
import { forEachHost, type FanoutDeps, type HostOutcome } from './fanout.js';

/** Files up to this size are read once and sent to every host from memory... */
const CACHE_FILE_LIMIT = 8 * 1024 * 1024;
/** ...as long as the cache stays under this; beyond it, files are read again for each host. */
const CACHE_TOTAL_LIMIT = 64 * 1024 * 1024;
/** Files in flight per host: enough to hide SFTP round trips. */
const FILES_IN_FLIGHT = 16;
/**
 * Bytes in flight across ALL hosts. Each byte sent is copied a few times on its way out (SFTP
 * request, encrypted packet, socket queue), so without a shared budget memory grows with the
 * number of hosts; with it, a 64-host upload needs no more than a 16-host one.
 */
const BYTES_IN_FLIGHT = 12 * 1024 * 1024;
/** A streamed file has at most this much in flight at once (the adapter's write pipeline). */
const STREAM_WINDOW = 16 * 32 * 1024;

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
 * How each local file is sent: small files (within the cache limits) are read once and shared by
 * every host; the rest is streamed from disk for each host.
 */
function contentSource(local: LocalFiles, files: readonly LocalEntry[]): {
  isCached: (entry: LocalEntry) => boolean;
  open: (entry: LocalEntry) => Promise<Buffer | ReturnType<LocalFiles['stream']>>;
} {
  const cacheable = new Set<string>();
  let total = 0;
  for (const file of files) {
    if (file.size <= CACHE_FILE_LIMIT && total + file.size <= CACHE_TOTAL_LIMIT) {
      total += file.size;
      cacheable.add(file.absPath);
    }
  }
  const cache = new Map<string, Promise<Buffer>>();
  return {
    isCached: (entry) => cacheable.has(entry.absPath),
    open: async (entry) => {
      if (!cacheable.has(entry.absPath)) return local.stream(entry.absPath);
      let content = cache.get(entry.absPath);
      if (content === undefined) {
        content = local.read(entry.absPath);
        cache.set(entry.absPath, content);
      }
      return content;
    },
  };
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
  for (const item of skipped) deps.reporter.emit({ kind: 'warning', message: `skipped ${item}` });
  const files = entries.filter((e) => !e.isDirectory);
  const content = contentSource(deps.local, files);
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const budget = createBudget(BYTES_IN_FLIGHT);

  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const sftp = await host.files();
    await sftp.mkdirp(remoteRoot);
    for (const dir of entries.filter((e) => e.isDirectory)) await sftp.mkdirp(path.posix.join(remoteRoot, dir.relPath), dir.mode);
    let done = 0;
    // A failed file ends this host's upload: no further files are started for it.
    await forEachLimited(files, FILES_IN_FLIGHT, async (file) => {
      const inFlight = content.isCached(file) ? file.size : Math.min(file.size, STREAM_WINDOW);
      await budget(inFlight, async () => sftp.writeFile(path.posix.join(remoteRoot, file.relPath), await content.open(file), file.mode));
      done += 1;
      deps.reporter.emit({ kind: 'transfer', host: host.target.name, done, total: files.length, path: file.relPath });
    });
    deps.reporter.emit({ kind: 'step', host: host.target.name, message: `uploaded ${files.length} file(s), ${bytes} bytes to ${remoteRoot}` });
    return { files: files.length, bytes, remotePath: remoteRoot };
  });
}
