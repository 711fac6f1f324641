import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { checkProjectPath, CONFIG_FOLDERS, DEV_FOLDERS, MAX_PATH_LENGTH } from '../core/mcp/project-paths.js';
import type { McpDeps } from './deps.js';
import { audited, ToolRefused } from './tool-kit.js';

const MAX_READ = 256 * 1024;
const MAX_LIST = 2000;

const pathSchema = z.string().max(MAX_PATH_LENGTH);
const listOutput = {
  entries: z.array(z.object({ path: z.string(), type: z.enum(['file', 'directory']), size: z.number() })),
  truncated: z.boolean(),
};
const readOutput = { path: z.string(), content: z.string(), bytes: z.number() };

function accepted(requested: string, folders: readonly string[]): string {
  const check = checkProjectPath(requested, folders);
  if (!check.ok) throw new ToolRefused(`${JSON.stringify(requested.slice(0, 80))}: ${check.problem}`);
  return check.segments.join('/');
}

function registerFolderTools(server: McpServer, deps: McpDeps, prefix: string, folders: readonly string[], what: string): void {
  server.registerTool(
    `${prefix}list_files`,
    {
      title: `List ${what}`,
      description: `Files under ${folders.map((f) => `${f}/`).join(', ')} of the project (hidden files and links leaving the folder are left out).`,
      inputSchema: { path: pathSchema.describe(`a folder, e.g. "${folders[0]}"`) },
      outputSchema: listOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    audited(deps, `${prefix}list_files`, async ({ path }) => {
      const listed = await deps.files.list(accepted(path, folders), MAX_LIST);
      const text = listed.entries.map((e) => `${e.path}${e.type === 'directory' ? '/' : ` (${e.size} bytes)`}`).join('\n') + (listed.truncated ? '\n(list cut)' : '');
      return { text: text === '' ? '(empty)' : text, structured: listed };
    }),
  );
  server.registerTool(
    `${prefix}read_file`,
    {
      title: `Read ${what}`,
      description: `One text file under ${folders.map((f) => `${f}/`).join(', ')} (at most ${MAX_READ / 1024} KiB). Secrets are not in these folders; their names appear as [%%secrets/NAME%%].`,
      inputSchema: { path: pathSchema.describe(`e.g. "${folders[0]}/..."`) },
      outputSchema: readOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    audited(deps, `${prefix}read_file`, async ({ path }) => {
      const rel = accepted(path, folders);
      const content = await deps.files.read(rel, MAX_READ);
      return { text: content.toString('utf8'), structured: { path: rel, content: content.toString('utf8'), bytes: content.length } };
    }),
  );
}

/** Read-only access to the files that configure nodes and apps. */
export function registerConfigTools(server: McpServer, deps: McpDeps): void {
  registerFolderTools(server, deps, 'config_', CONFIG_FOLDERS, 'configuration files');
}

/** `--dev`: app modules and tests, readable, writable and parse-checked. */
export function registerDevTools(server: McpServer, deps: McpDeps): void {
  registerFolderTools(server, deps, 'dev_', DEV_FOLDERS, 'app modules and tests');
  server.registerTool(
    'dev_write_file',
    {
      title: 'Write an app module or test file',
      description: `Creates or replaces one file under ${DEV_FOLDERS.map((f) => `${f}/`).join(', ')} (written whole, through a temporary file). Nix files are parse-checked afterwards.`,
      inputSchema: { path: pathSchema, content: z.string().max(MAX_READ) },
      outputSchema: { path: z.string(), bytes: z.number(), nixParse: z.object({ ok: z.boolean(), output: z.string() }).optional() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    audited(deps, 'dev_write_file', async ({ path, content }) => {
      const rel = accepted(path, DEV_FOLDERS);
      await deps.files.write(rel, Buffer.from(content, 'utf8'));
      const nixParse = rel.endsWith('.nix') ? await deps.parseNix(await deps.files.realPath(rel)) : undefined;
      const text = `wrote ${rel} (${Buffer.byteLength(content)} bytes)${nixParse ? `; nix parse: ${nixParse.ok ? 'ok' : `FAILED\n${nixParse.output}`}` : ''}`;
      return { text, structured: { path: rel, bytes: Buffer.byteLength(content), ...(nixParse ? { nixParse } : {}) } };
    }),
  );
  server.registerTool(
    'dev_check_nix',
    {
      title: 'Parse-check a Nix file',
      description: 'nix-instantiate --parse on one .nix file under app_modules/ or __test__/ (syntax only; nothing is built or evaluated).',
      inputSchema: { path: pathSchema },
      outputSchema: { path: z.string(), ok: z.boolean(), output: z.string() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    audited(deps, 'dev_check_nix', async ({ path }) => {
      const rel = accepted(path, DEV_FOLDERS);
      if (!rel.endsWith('.nix')) throw new ToolRefused(`${rel} is not a .nix file`);
      const result = await deps.parseNix(await deps.files.realPath(rel));
      return { text: result.ok ? `${rel}: parses` : `${rel}: does not parse\n${result.output}`, structured: { path: rel, ...result }, failed: !result.ok };
    }),
  );
}
