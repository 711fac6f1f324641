/**
 * A POSIX tar archive (ustar, with a pax `path` record for names longer than ustar holds) built
 * in memory: regular files only, owner root, the given mode, mtime 0. Only what the node's
 * `tar -x` needs, so the whole file set of a deploy travels as one stream over one exec channel.
 */

export interface TarEntry {
  /** Relative path, `/`-separated, no `.`/`..` parts (the caller validates). */
  readonly path: string;
  readonly mode: number;
  readonly content: Buffer;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU tar writes them.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, type: '0' | 'x'): Buffer {
  const block = Buffer.alloc(BLOCK, 0);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(0, 12), 136, 'ascii');
  block.fill(' ', 148, 156);
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function padded(content: Buffer): Buffer[] {
  const rest = content.length % BLOCK;
  return rest === 0 ? [content] : [content, Buffer.alloc(BLOCK - rest, 0)];
}

/** A pax record `<len> path=<value>\n`, where <len> counts the whole record, itself included. */
function paxPath(value: string): Buffer {
  const body = ` path=${value}\n`;
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return Buffer.from(`${length}${body}`, 'utf8');
}

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.path === '' || entry.path.startsWith('/') || entry.path.includes('\0')) throw new Error(`internal: bad tar path ${JSON.stringify(entry.path)}`);
    if (Buffer.byteLength(entry.path, 'utf8') > 99) {
      const record = paxPath(entry.path);
      parts.push(header('././@PaxHeader', record.length, 0o644, 'x'), ...padded(record));
    }
    parts.push(header(entry.path.slice(0, 99), entry.content.length, entry.mode, '0'), ...padded(entry.content));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
