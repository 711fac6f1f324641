import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * nix-infra's own secret file format (v1). One text line:
 *
 *   nix-infra-secret v1 scrypt:N=32768,r=8,p=1 <salt> <iv> <check> <sealed>
 *
 * (all binary fields are canonical base64). `sealed` is the AES-256-GCM ciphertext followed by
 * its 16-byte tag. Everything before `sealed` (the header, kept verbatim as written in the file)
 * plus the secret's name is authenticated as GCM additional data, so changing any header byte
 * fails authentication, and so does a file renamed or copied to another secret's name: a value
 * stored as `db-password` can never be deployed as `api-token`.
 *
 * This module is pure apart from the KDF running on libuv's threadpool: no filesystem access.
 * Errors carry structural facts only, never plaintext.
 */

export const V1_MAGIC = 'nix-infra-secret';
const V1_VERSION = 'v1';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 32 MiB of memory per derivation: costly to brute-force, still fast for one CLI run. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const IV_BYTES = 12;
const CHECK_BYTES = 8;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Bounds for parameters read from a file. The file is input: a hostile one must not make us
 * allocate gigabytes (memory is 128·N·r bytes) or spin for minutes (time grows with N·r·p).
 */
const MIN_N = 2 ** 14;
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MAX_WORK = 2 ** 24; // N·r·p; the default is 2^18

export type DecodeFailure = 'malformed' | 'unsupported' | 'wrong-password' | 'tampered';

/** Why a stored secret could not be decoded. `detail` is about structure only, never content. */
export class SecretDecodeError extends Error {
  constructor(
    readonly failure: DecodeFailure,
    readonly detail: string,
  ) {
    super(`${failure}: ${detail}`);
    this.name = 'SecretDecodeError';
  }
}

/** Canonical base64 only: a single changed character can never decode to the same bytes. */
export function strictBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** 'v1' for our current format, 'unsupported' for another version of it, else undefined. */
export function sniffV1(head: Buffer): 'v1' | 'unsupported' | undefined {
  const start = head.subarray(0, V1_MAGIC.length + 1).toString('latin1');
  if (start !== `${V1_MAGIC} `) return undefined;
  const version = head.subarray(V1_MAGIC.length + 1, V1_MAGIC.length + 4).toString('latin1');
  return version === `${V1_VERSION} ` ? 'v1' : 'unsupported';
}

export function scryptParamsProblem(params: ScryptParams): string | undefined {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || N < MIN_N || N > MAX_N || (N & (N - 1)) !== 0) {
    return `scrypt N must be a power of two between ${MIN_N} and ${MAX_N}`;
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > MAX_R) return `scrypt r must be between 1 and ${MAX_R}`;
  if (!Number.isSafeInteger(p) || p < 1 || p > MAX_P) return `scrypt p must be between 1 and ${MAX_P}`;
  if (128 * N * r > MAX_MEMORY_BYTES) return 'scrypt parameters need more than 256 MiB of memory';
  if (N * r * p > MAX_WORK) return 'scrypt parameters need too much work';
  return undefined;
}

function scryptAsync(password: Buffer, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  // OpenSSL needs 128·r·(N + p + 2) bytes; leave headroom over Node's 32 MiB default.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * 64 bytes from scrypt: the first half is the AES key, the second half is hashed into a short
 * check value. The check lets us say "wrong password" instead of "corrupted file". It gives an
 * attacker nothing new: testing a password guess against it costs the same scrypt run as testing
 * it against the GCM tag, and it is computed from bytes independent of the key.
 */
async function deriveKeys(
  password: Buffer,
  salt: Buffer,
  params: ScryptParams,
): Promise<{ key: Buffer; check: Buffer }> {
  const out = await scryptAsync(password, salt, KEY_BYTES * 2, params);
  const key = Buffer.from(out.subarray(0, KEY_BYTES));
  const check = createHash('sha256')
    .update('nix-infra-secret password check\0')
    .update(out.subarray(KEY_BYTES))
    .digest()
    .subarray(0, CHECK_BYTES);
  out.fill(0);
  return { key, check };
}

function additionalData(header: string, name: string): Buffer {
  // Neither part can contain a newline (header is one line, names are validated), so the
  // boundary is unambiguous.
  return Buffer.from(`${header}\n${name}`, 'utf8');
}

/** Encrypts `plaintext` for the secret called `name`; returns the whole file content. */
export async function encodeV1(
  name: string,
  plaintext: Buffer,
  password: Buffer,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  const problem = scryptParamsProblem(params);
  if (problem !== undefined) throw new Error(`refusing to write with unsafe parameters: ${problem}`);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const { key, check } = await deriveKeys(password, salt, params);
  try {
    const kdf = `scrypt:N=${params.N},r=${params.r},p=${params.p}`;
    const header = [V1_MAGIC, V1_VERSION, kdf, salt.toString('base64'), iv.toString('base64'), check.toString('base64')].join(' ');
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(header, name));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${header} ${sealed.toString('base64')}\n`;
  } finally {
    key.fill(0);
  }
}

interface ParsedV1 {
  readonly header: string;
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly iv: Buffer;
  readonly check: Buffer;
  readonly sealed: Buffer;
}

function field(text: string | undefined, what: string, length?: number): Buffer {
  const bytes = text === undefined ? undefined : strictBase64(text);
  if (bytes === undefined) throw new SecretDecodeError('malformed', `the ${what} is not valid base64`);
  if (length !== undefined && bytes.length !== length) {
    throw new SecretDecodeError('malformed', `the ${what} must be ${length} bytes`);
  }
  return bytes;
}

export function parseV1(content: string): ParsedV1 {
  const line = content.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(line)) throw new SecretDecodeError('malformed', 'expected a single line');
  const parts = line.split(' ');
  if (parts[0] !== V1_MAGIC) throw new SecretDecodeError('malformed', `missing the "${V1_MAGIC}" header`);
  const version = parts[1] ?? '';
  if (version !== V1_VERSION) {
    // The version comes from the file: only echo it when it looks like one.
    const shown = /^v[0-9]{1,4}$/.test(version) ? `format version ${version}` : 'an unknown format version';
    throw new SecretDecodeError('unsupported', `the file uses ${shown}`);
  }
  if (parts.length !== 7) throw new SecretDecodeError('malformed', `expected 7 fields, found ${parts.length}`);
  const kdf = /^scrypt:N=([0-9]{1,10}),r=([0-9]{1,4}),p=([0-9]{1,4})$/.exec(parts[2] ?? '');
  if (kdf === null) throw new SecretDecodeError('unsupported', 'unknown key derivation parameters');
  const params: ScryptParams = { N: Number(kdf[1]), r: Number(kdf[2]), p: Number(kdf[3]) };
  const problem = scryptParamsProblem(params);
  if (problem !== undefined) throw new SecretDecodeError('unsupported', problem);
  const sealed = field(parts[6], 'ciphertext');
  if (sealed.length < TAG_BYTES) throw new SecretDecodeError('malformed', 'the ciphertext is truncated');
  return {
    header: parts.slice(0, 6).join(' '),
    params,
    salt: field(parts[3], 'salt', SALT_BYTES),
    iv: field(parts[4], 'IV', IV_BYTES),
    check: field(parts[5], 'password check', CHECK_BYTES),
    sealed,
  };
}

/** Decrypts a v1 file's content for the secret called `name`. The caller owns the result. */
export async function decodeV1(name: string, content: string, password: Buffer): Promise<Buffer> {
  const parsed = parseV1(content);
  // nix-infra writes only DEFAULT_SCRYPT. Other parameters cannot open the file with any password
  // (the key and the check depend on them), so say the file was modified, not "wrong password".
  const { N, r, p } = parsed.params;
  if (N !== DEFAULT_SCRYPT.N || r !== DEFAULT_SCRYPT.r || p !== DEFAULT_SCRYPT.p) {
    throw new SecretDecodeError('malformed', `its key derivation parameters scrypt:N=${N},r=${r},p=${p} are not the ones nix-infra writes`);
  }
  const { key, check } = await deriveKeys(password, parsed.salt, parsed.params);
  try {
    // A damaged salt or check value also lands here; the caller's hint mentions that.
    if (!timingSafeEqual(check, parsed.check)) throw new SecretDecodeError('wrong-password', 'password check failed');
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(parsed.header, name));
    decipher.setAuthTag(parsed.sealed.subarray(parsed.sealed.length - TAG_BYTES));
    const body = parsed.sealed.subarray(0, parsed.sealed.length - TAG_BYTES);
    // GCM releases unauthenticated bytes from update(); they are wiped whatever happens next.
    const first = decipher.update(body);
    try {
      return Buffer.concat([first, decipher.final()]);
    } catch {
      throw new SecretDecodeError('tampered', 'authentication failed');
    } finally {
      first.fill(0);
    }
  } finally {
    key.fill(0);
  }
}
