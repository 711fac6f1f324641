/** One line of the project's audit trail: who did what to which nodes, and how it ended. */
export interface AuditRecord {
  readonly time: string;
  /** user@host of the operator's machine. */
  readonly operator: string;
  /** What started it: `cli` or `mcp`. */
  readonly source: 'cli' | 'mcp';
  /** The command or tool name, e.g. `deploy` or `mcp journal`. */
  readonly command: string;
  /** Arguments with anything long or sensitive replaced by its size and digest. */
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly nodes: readonly string[];
  readonly result: 'ok' | 'failed' | 'refused';
  readonly detail?: string;
  readonly durationMs: number;
}

export interface AuditLog {
  append(record: AuditRecord): Promise<void>;
}
