import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** A request larger than this closes the session: no tool takes more than a few hundred KiB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Serves on stdin/stdout until the client goes away (stdin ends) or the process is told to stop.
 * stdout carries the protocol only; anything else this process prints goes to stderr.
 */
export async function serveStdio(server: McpServer, onStop: () => Promise<void>): Promise<void> {
  const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: MAX_MESSAGE_BYTES });
  const stopped = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => void server.close());
    process.once('SIGINT', () => void server.close());
    process.once('SIGTERM', () => void server.close());
  });
  await server.connect(transport);
  await stopped;
  await onStop();
}
