/** How one node fared in a run. */
export interface NodeResult {
  readonly node: string;
  readonly ok: boolean;
  /** One line (`exit 1`, `cannot connect ...`); the output tail is never recorded. */
  readonly error?: string;
  readonly durationMs: number;
}

/**
 * One line of the audit trail: one run of a command that changes nodes. It holds names, times
 * and outcomes only; the command's other arguments are left out because one of them could be a
 * secret (an action's --env-vars, a cmd's script).
 */
export interface AuditRecord {
  readonly v: 1;
  /** The run's id, also its deploy lock's id. */
  readonly id: string;
  readonly who: string;
  /** ISO start time. */
  readonly when: string;
  /** `nix-infra fleet deploy-apps` */
  readonly command: string;
  /** `--target` values as given. */
  readonly selector: readonly string[];
  readonly nodes: readonly string[];
  /** `ok`: every node ok; `failed`: some node failed; `interrupted`: Ctrl-C; `stopped`: an error ended it early; `refused`: a request (MCP) was refused before it ran. */
  readonly result: 'ok' | 'failed' | 'interrupted' | 'stopped' | 'refused';
  readonly results: readonly NodeResult[];
  readonly durationMs: number;
  /** What started it; absent means the CLI. */
  readonly source?: 'cli' | 'mcp';
  /** MCP tool calls: the tool's arguments, long values replaced by their size and digest. */
  readonly arguments?: Readonly<Record<string, unknown>>;
  /** Why a request was refused or failed, in one line. */
  readonly detail?: string;
}
