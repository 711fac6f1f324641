/**
 * The project folder, addressed by paths relative to its root. Implementations refuse any path
 * that would leave the root (`..`, absolute paths), so no name taken from input can escape it.
 */
export interface FileInfo {
  readonly mode: number;
  readonly mtimeMs: number;
  readonly size: number;
  readonly isDirectory: boolean;
}

export interface Workspace {
  /** Absolute path of the project folder. */
  readonly root: string;
  /** Absolute path for a relative one (validated as above). */
  resolve(relPath: string): string;
  stat(relPath: string): Promise<FileInfo | undefined>;
  readFile(relPath: string): Promise<Buffer>;
  /** Creates the folder (and parents) if missing; returns true when it was created. */
  ensureDir(relPath: string, mode: number): Promise<boolean>;
  /**
   * Writes to a temporary sibling, sets `mode`, then renames over the target, so a reader
   * never sees a half-written file. With `exclusive`, an existing target is left untouched
   * and false is returned.
   */
  writeFile(relPath: string, data: Buffer | string, options: { mode: number; exclusive?: boolean }): Promise<boolean>;
  /** Relative paths of all regular files below a folder, sorted. */
  listFiles(relPath: string): Promise<string[]>;
}
