import type { HostStatusView } from '../core/status/compartments.js';
import type { Grant } from '../core/mcp/permissions.js';
import type { ProbeLimits } from '../core/mcp/run-probe.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { ProjectFiles } from '../ports/project-files.js';
import type { ServerInfo } from '../ports/provider.js';
import type { HostConnector } from '../ports/remote-host.js';

/** Result of checking a Nix file's syntax locally. */
export interface NixParseResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Everything the MCP tools use, built once by the composition root (src/cli/mcp-session.ts). */
export interface McpDeps {
  readonly version: string;
  readonly listServers: () => Promise<ServerInfo[]>;
  readonly connector: HostConnector;
  /** Private key used for servers that name none (the project's SSH_KEY). */
  readonly defaultKeyPath: string | undefined;
  readonly files: ProjectFiles;
  readonly audit: AuditLog;
  readonly operator: string;
  readonly grants: readonly Grant[];
  readonly protectedTiers: readonly string[];
  readonly dev: boolean;
  readonly limits: ProbeLimits;
  readonly parseNix: (absPath: string) => Promise<NixParseResult>;
  readonly now: () => Date;
  /**
   * One status pass over the nodes the selector values pick, as `fleet status` (or, for a server
   * started with `--cluster`, `cluster status`) computes it. Reaches pinned hosts only.
   */
  readonly status: (targetValues: readonly string[]) => Promise<HostStatusView[]>;
}
