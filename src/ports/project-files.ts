/** A listed entry, relative to the project folder with "/" separators. */
export interface ProjectEntry {
  readonly path: string;
  readonly type: 'file' | 'directory';
  readonly size: number;
}

/**
 * Project files reached on behalf of an untrusted caller (the MCP tools). Every method takes a
 * path already accepted by `checkProjectPath` and re-checks the real path (symbolic links
 * resolved) against the folder it names, so nothing outside that folder is ever opened.
 */
export interface ProjectFiles {
  /** Every file and folder under the path, hidden names and links that leave the folder left out. */
  list(relPath: string, limit: number): Promise<{ entries: ProjectEntry[]; truncated: boolean }>;
  /** The file's bytes; refuses files larger than `maxBytes`. */
  read(relPath: string, maxBytes: number): Promise<Buffer>;
  /** Writes through a temporary file and a rename; parent folders inside the folder are created. */
  write(relPath: string, content: Buffer): Promise<void>;
  /** The absolute real path of an existing file (for a local checker such as nix-instantiate). */
  realPath(relPath: string): Promise<string>;
}

/** A refused or failed file access: the message is safe to show the caller. */
export class ProjectFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectFileError';
  }
}
