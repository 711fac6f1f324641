import { createDecipheriv, pbkdf2 } from 'node:crypto';

import { SecretDecodeError, strictBase64 } from './format-v1.js';

/**
 * Readers for secret files written by the upstream Dart tool, which piped the value through
 * `openssl enc -pbkdf2 -a` (see docs on SecretFormat). With OpenSSL 3 and no cipher named, that
 * command only base64-encodes, so most existing files are plain base64 of the value. If a user's
 * openssl did encrypt, the decoded bytes start with OpenSSL's `Salted__` header instead.
 * We only read these formats; writing always produces v1.
 */

const OPENSSL_MAGIC = Buffer.from('Salted__', 'latin1');
const OPENSSL_SALT_BYTES = 8;
const AES_BLOCK_BYTES = 16;
/** `openssl enc -pbkdf2` defaults: PBKDF2-HMAC-SHA256, 10000 iterations, 32-byte key + 16-byte IV. */
const OPENSSL_ITERATIONS = 10_000;
const OPENSSL_KEY_BYTES = 32;
const OPENSSL_IV_BYTES = 16;

/** Joins openssl's 64-character base64 lines (LF or CRLF endings) into one string. */
function joinLines(content: Buffer): string {
  return content.toString('latin1').replace(/[\r\n]/g, '');
}

/**
 * Detects a legacy file from its first bytes, without any password and without decoding the
 * value: only the first 9 bytes are decoded, to look for the `Salted__` header.
 * `complete` says whether `head` is the whole file (then the base64 length must also be whole).
 * An empty file is legacy-base64: that is what upstream wrote for an empty secret.
 */
export function sniffLegacy(head: Buffer, complete: boolean): 'legacy-base64' | 'legacy-openssl' | undefined {
  let text = joinLines(head);
  if (!complete) text = text.slice(0, text.length - (text.length % 4));
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  if (complete && text.length % 4 !== 0) return undefined;
  const start = Buffer.from(text.slice(0, 12), 'base64');
  return start.subarray(0, OPENSSL_MAGIC.length).equals(OPENSSL_MAGIC) ? 'legacy-openssl' : 'legacy-base64';
}

function decodeBase64File(content: Buffer): Buffer {
  const bytes = strictBase64(joinLines(content));
  if (bytes === undefined) throw new SecretDecodeError('malformed', 'the file is not valid base64');
  return bytes;
}

/**
 * Upstream read a secret by splitting openssl's output into lines (Dart's LineSplitter: LF, CRLF
 * and lone CR all end a line) and joining them with LF. So the final line break was dropped and
 * CR/CRLF became LF. Legacy values get exactly that treatment, so an existing project deploys
 * byte-identical values after switching tools. Working on bytes is equivalent for UTF-8 text,
 * because CR and LF never occur inside a multi-byte sequence.
 */
export function upstreamLineNormalise(value: Buffer): Buffer {
  const out = Buffer.alloc(value.length);
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i];
    if (byte === 0x0d) {
      out[length++] = 0x0a;
      if (value[i + 1] === 0x0a) i++;
    } else if (byte !== undefined) {
      out[length++] = byte;
    }
  }
  if (length > 0 && out[length - 1] === 0x0a) length--;
  const result = Buffer.from(out.subarray(0, length));
  out.fill(0);
  return result;
}

/** A legacy-base64 file: no password involved (upstream ignored it). */
export function decodeLegacyBase64(content: Buffer): Buffer {
  const raw = decodeBase64File(content);
  const value = upstreamLineNormalise(raw);
  raw.fill(0);
  return value;
}

function pbkdf2Async(password: Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, OPENSSL_ITERATIONS, OPENSSL_KEY_BYTES + OPENSSL_IV_BYTES, 'sha256', (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * An `openssl enc -aes-256-cbc -pbkdf2 -a` file. CBC has no authentication: a wrong password is
 * only noticed through bad PKCS#7 padding, and about 1 in 256 wrong passwords pass that check
 * and yield garbage. Rewriting the secret (which produces v1) removes that weakness.
 */
export async function decryptLegacyOpenssl(content: Buffer, password: Buffer): Promise<Buffer> {
  const raw = decodeBase64File(content);
  const headerBytes = OPENSSL_MAGIC.length + OPENSSL_SALT_BYTES;
  if (!raw.subarray(0, OPENSSL_MAGIC.length).equals(OPENSSL_MAGIC)) {
    throw new SecretDecodeError('malformed', 'missing the OpenSSL "Salted__" header');
  }
  const body = raw.subarray(headerBytes);
  if (raw.length < headerBytes || body.length === 0 || body.length % AES_BLOCK_BYTES !== 0) {
    throw new SecretDecodeError('malformed', 'the ciphertext is truncated');
  }
  const derived = await pbkdf2Async(password, raw.subarray(OPENSSL_MAGIC.length, headerBytes));
  const key = derived.subarray(0, OPENSSL_KEY_BYTES);
  const iv = derived.subarray(OPENSSL_KEY_BYTES);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    plain = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new SecretDecodeError('wrong-password', 'bad padding after decryption');
  } finally {
    derived.fill(0);
  }
  const value = upstreamLineNormalise(plain);
  plain.fill(0);
  return value;
}
