import path from 'node:path';
import { JsonlAuditLog } from '../adapters/jsonl-audit-log.js';
import { parseNixFile } from '../adapters/nix-parse.js';
import { NodeProjectFiles } from '../adapters/project-files.js';
import { parseGrants } from '../core/mcp/permissions.js';
import { checkSshKeyName } from '../domain/names.js';
import type { McpDeps } from '../mcp/deps.js';
import { LineReporter } from '../ui/event-renderer.js';
import type { ProjectSession } from './base-command.js';
import { createConnector, projectTierPolicy } from './node-run.js';
import { openProvider } from './open-provider.js';
import { operatorName } from './operator.js';
import { runStatus } from './status-run.js';

export interface McpOptions {
  readonly allow: readonly string[];
  readonly dev: boolean;
  /** Status in cluster mode (overlay addresses from the remembered control nodes). */
  readonly cluster: boolean;
  readonly sshKeyName: string | undefined;
  readonly connectTimeoutSeconds: number;
  readonly toolTimeoutSeconds: number;
  readonly maxOutputBytes: number;
  readonly version: string;
}

/** Builds what the MCP tools run on: every input checked here, before the server answers anything. */
export async function openMcpSession(session: ProjectSession, options: McpOptions): Promise<McpDeps> {
  const grants = parseGrants(options.allow);
  let defaultKeyPath: string | undefined;
  if (options.sshKeyName !== undefined) {
    checkSshKeyName(options.sshKeyName);
    defaultKeyPath = path.join(session.workingDir, 'ssh', options.sshKeyName);
  }
  const provider = await openProvider(session);
  // Fail at start, not on the first tool call, when the inventory is broken.
  await provider.listServers();
  // The project's connector, except that a host never contacted before is refused, not pinned.
  const connector = createConnector(session, { concurrency: 8, connectTimeoutSeconds: options.connectTimeoutSeconds, acceptHostKey: [], refuseFirstContact: true });
  // stdout carries the protocol: the status run's progress goes to stderr, host output nowhere.
  const statusSession = { ...session, reporter: new LineReporter({ debug: false, quiet: true }) };
  const status = (targetValues: readonly string[]) =>
    runStatus(statusSession, {
      mode: options.cluster ? 'cluster' : 'fleet',
      targetValues,
      ctrlNodes: undefined,
      concurrency: 8,
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      acceptHostKey: [],
      sshKeyName: options.sshKeyName,
      refuseFirstContact: true,
    });
  return {
    version: options.version,
    listServers: () => provider.listServers(),
    connector,
    defaultKeyPath,
    files: new NodeProjectFiles(session.workingDir),
    audit: new JsonlAuditLog(session.workingDir),
    operator: operatorName(),
    grants,
    protectedTiers: projectTierPolicy(session).protectedTiers,
    dev: options.dev,
    limits: { timeoutMs: options.toolTimeoutSeconds * 1000, maxBytes: options.maxOutputBytes },
    parseNix: parseNixFile,
    now: session.ctx.now,
    status,
  };
}
