import type { Readable } from 'node:stream';

export interface LocalEntry {
  /** Path relative to the upload's remote root, with `/` separators; the top entry keeps its basename. */
  readonly relPath: string;
  readonly absPath: string;
  readonly isDirectory: boolean;
  readonly mode: number;
  readonly size: number;
}

/** Reads trees on the operator's machine (what `upload` sends). */
export interface LocalFiles {
  /**
   * Every folder and file under the given paths, parents before children. Symbolic links to
   * files inside the given paths are followed; links to folders (they could loop), links that
   * lead outside the given paths and dangling links are reported in `skipped`.
   */
  walk(paths: readonly string[]): Promise<{ entries: LocalEntry[]; skipped: string[] }>;
  read(absPath: string): Promise<Buffer>;
  stream(absPath: string): Readable;
}
