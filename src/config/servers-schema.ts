/**
 * The shape of servers.yaml, as one zod schema. It is the single source for three things:
 * validation at load time (load-servers.ts), the JSON Schema editors use for completion
 * (scripts/export-schema.js writes schema/servers.schema.json), and the test that checks
 * servers.example.yaml documents every key. So every key carries a description, written for the
 * operator who sees it as an editor tooltip.
 *
 * Error texts defined here are the `<problem>` half of `servers.yaml: <key path>: <problem>`;
 * load-servers.ts adds the file and path.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { isAttributeWord, isHostnameLabel } from '../domain/names.js';

/** Providers that can resolve a hybrid entry's address by server name. */
export const SUPPORTED_PROVIDERS = ['hetzner'] as const;

export const USERNAME_PATTERN = /^[a-z_][a-z0-9_.-]*$/;

/** How a YAML value is named in an error: short, never a dump of the value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return 'a mapping';
  return 'a value of an unsupported type';
}

type Issue = { code?: string; input?: unknown };

const nodeName = z
  .string()
  .refine(isHostnameLabel, {
    error: (iss: Issue) =>
      `${describeValue(iss.input)} is not a valid server name: use 1-63 letters, digits or "-", ` +
      'not starting or ending with "-" (it becomes the hostname)',
  })
  .describe(
    'Node name. It becomes the machine\'s hostname and is what --target selects, so it must be a ' +
      'hostname label: 1-63 letters, digits or hyphens, no hyphen at either end.',
  );

/** Tags, role and tier: words that are valid selectors and valid Hetzner label values. */
function attributeWord(what: string) {
  const error = (iss: Issue): string =>
    `${describeValue(iss.input)} is not a valid ${what}: use 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`;
  return z.string({ error }).refine(isAttributeWord, { error });
}

const ipError = (iss: Issue): string => `${describeValue(iss.input)} is not an IP address (IPv4 or IPv6)`;
const portError = (iss: Issue): string => `${describeValue(iss.input)} is not a port: use a whole number from 1 to 65535`;
const usernameError = (iss: Issue): string =>
  `${describeValue(iss.input)} is not a valid user name: use lowercase letters, digits, "_", "." ` +
  'and "-", starting with a letter or "_" (rule: ^[a-z_][a-z0-9_.-]*$)';

export const serverEntrySchema = z
  .strictObject({
    ip: z
      .string({ error: ipError })
      .refine((value) => isIP(value) !== 0, { error: ipError })
      .optional()
      .describe(
        'Address nix-infra reaches this machine at over SSH: an IPv4 or IPv6 address, not a host ' +
          'name. Give either ip or provider, not both.',
      ),
    provider: z
      .enum(SUPPORTED_PROVIDERS, {
        error: (iss: Issue) =>
          `unknown provider ${describeValue(iss.input)}; supported providers: ${SUPPORTED_PROVIDERS.join(', ')}`,
      })
      .optional()
      .describe(
        'Marks a hybrid entry: the machine lives in this cloud and its address is looked up there by ' +
          'the node name each time it is needed (hetzner needs HCLOUD_TOKEN). Give either ip or ' +
          'provider, not both.',
      ),
    ssh_key: z
      .string()
      .min(1, { error: 'must not be empty: give the path of the private key' })
      .describe(
        'Private key used to log in. Either absolute, or relative to the project folder (the one ' +
          'holding servers.yaml); "~" is not expanded. The key file must exist when servers.yaml is read.',
      ),
    username: z
      .string({ error: usernameError })
      .regex(USERNAME_PATTERN, { error: usernameError })
      .default('root')
      .describe('Account to log in as. Defaults to root. Lowercase letters, digits, "_", "." and "-".'),
    port: z
      .int({ error: portError })
      .min(1, { error: portError })
      .max(65535, { error: portError })
      .default(22)
      .describe('SSH port, 1-65535. Defaults to 22.'),
    description: z
      .string()
      .optional()
      .describe('Free text for the people reading this file; it is not used to reach the machine.'),
    tags: z
      .array(attributeWord('tag'))
      .optional()
      .describe('Tags this machine carries; --target @TAG selects every machine with the tag. Each is a word (see role).'),
    role: attributeWord('role')
      .optional()
      .describe(
        'What the machine does, one word (web, db, ...); --target role:NAME selects by it. 1-63 letters, digits, ".", ' +
          '"_" or "-", starting and ending with a letter or digit.',
      ),
    tier: attributeWord('tier')
      .optional()
      .describe(
        'Environment the machine belongs to, one word, e.g. test or prod; --target tier:NAME selects by it. Protected ' +
          'tiers (PROTECTED_TIERS in .env, default prod) are changed only when the selector or --allow-tier names them.',
      ),
    metadata: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Free-form mapping for your own notes or tooling; nix-infra keeps it but never interprets it.'),
    id: z
      .int()
      .optional()
      .describe(
        'Ignored. Accepted only so that files written by the upstream nix-infra scripts, which add ' +
          'an integer id to each entry, still load.',
      ),
  })
  .superRefine((entry, ctx) => {
    // Exactly one way to find the machine: a fixed address, or a name lookup at a provider.
    if (entry.ip === undefined && entry.provider === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ip'],
        message: 'missing: give the machine\'s address, or "provider: hetzner" to look it up by name',
      });
    } else if (entry.ip !== undefined && entry.provider !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'has both "ip" and "provider"; keep exactly one' });
    }
  })
  .meta({
    description:
      'One machine. It needs ssh_key and exactly one of ip (reach it at a fixed address) or ' +
      'provider (look its address up in a cloud by the node name).',
    // zod cannot express the superRefine above in JSON Schema; this gives editors the same rule.
    oneOf: [{ required: ['ip'] }, { required: ['provider'] }],
  });

export const serversFileSchema = z
  .strictObject({
    servers: z
      .record(nodeName, serverEntrySchema, {
        // undefined for a bad key: the node-name rule's own message is the better one.
        error: (iss: Issue) =>
          iss.code === 'invalid_key'
            ? undefined
            : iss.input === undefined
            ? 'missing: the file needs a top-level "servers:" mapping of node names to entries'
            : `expected a mapping of node names to entries, found ${describeValue(iss.input)}`,
      })
      .describe('Every machine nix-infra manages, keyed by node name, in the order they are listed.'),
  })
  .meta({
    title: 'nix-infra servers.yaml',
    description:
      'Machines nix-infra manages without creating them: your own servers, reached at a fixed ' +
      'address, and optionally Hetzner Cloud servers found by name. When this file exists in the ' +
      'project folder it takes precedence over HCLOUD_TOKEN.',
  });

export type ServersFile = z.output<typeof serversFileSchema>;

/** Stable identifier of the exported schema (a URN, since the project owns no web address). */
export const SERVERS_SCHEMA_ID = 'urn:nix-infra:schema:servers';

/**
 * The JSON Schema for editors. Input mode, because the file is what the operator writes: keys with
 * defaults are optional there. Draft 7 because that is what YAML/JSON editor plugins support best.
 */
export function serversJsonSchema(): Record<string, unknown> {
  const { $schema, title, description, ...rest } = z.toJSONSchema(serversFileSchema, { io: 'input', target: 'draft-07' });
  // Identity and title first, so a person opening the file sees what it is.
  return { $schema, $id: SERVERS_SCHEMA_ID, title, description, ...rest };
}

/** The exact text of schema/servers.schema.json; the export script and the staleness test share it. */
export function renderServersJsonSchema(): string {
  return `${JSON.stringify(serversJsonSchema(), null, 2)}\n`;
}
