import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { UserError } from '../../domain/errors.js';

const BLOCK = 512;

/** The entry's name from a tar header: ustar prefix + name, NUL-terminated fields. */
function entryName(header: Buffer): string {
  const field = (start: number, length: number): string => {
    const raw = header.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
  };
  const name = field(0, 100);
  const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(345, 155) : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

function entrySize(header: Buffer): number {
  const text = header.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim();
  const size = parseInt(text === '' ? '0' : text, 8);
  if (!Number.isFinite(size) || size < 0) throw new UserError('the image archive has a corrupt tar header');
  return size;
}

/** True when the file starts with gzip's magic bytes. */
async function isGzip(open: () => Readable): Promise<boolean> {
  const stream = open();
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      return bytes[0] === 0x1f && bytes[1] === 0x8b;
    }
    return false;
  } finally {
    stream.destroy();
  }
}

/**
 * manifest.json of a `docker save` / `podman save` archive (plain or gzip), read as a stream so a
 * large image is never held in memory: only the manifest's bytes are kept.
 */
export async function readManifest(open: () => Readable, file: string): Promise<unknown> {
  const gzip = await isGzip(open);
  const raw = open();
  const source: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  const missing = () => new UserError(`${file}: no manifest.json in the image archive`, { hints: ['make it with `docker save` or `podman save`'] });
  const chunks: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let skip = 0;
  let collect = -1;
  try {
    for await (const chunk of source) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      for (;;) {
        if (collect >= 0) {
          const take = Math.min(collect, pending.length);
          chunks.push(pending.subarray(0, take));
          pending = pending.subarray(take);
          collect -= take;
          if (collect > 0) break;
          return parse(Buffer.concat(chunks), file);
        }
        if (skip > 0) {
          const drop = Math.min(skip, pending.length);
          pending = pending.subarray(drop);
          skip -= drop;
          if (skip > 0) break;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) throw missing();
        const size = entrySize(header);
        const padded = Math.ceil(size / BLOCK) * BLOCK;
        if (entryName(header).replace(/^\.\//, '') === 'manifest.json') collect = size;
        else skip = padded;
      }
    }
  } finally {
    raw.destroy();
    source.destroy();
  }
  throw missing();
}

function parse(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new UserError(`${file}: manifest.json is not valid JSON`);
  }
}

/**
 * The first 12 hex digits of the image id, from either layout `docker save` has written:
 * `Config: "blobs/sha256/<hex>"` (OCI layout, Docker 25+) or `Config: "<hex>.json"` (older).
 * Upstream read only the first.
 */
export function imageIdFromManifest(manifest: unknown, file: string): string {
  const first = Array.isArray(manifest) ? (manifest[0] as { Config?: unknown } | undefined) : undefined;
  const config = first?.Config;
  if (typeof config !== 'string') throw new UserError(`${file}: manifest.json has no Config entry`);
  const match = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(config) ?? /^([0-9a-f]{64})\.json$/.exec(config);
  if (match?.[1] === undefined) throw new UserError(`${file}: manifest.json Config ${JSON.stringify(config)} is in no layout docker save writes`);
  return match[1].slice(0, 12);
}
