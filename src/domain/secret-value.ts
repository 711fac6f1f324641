import { inspect } from 'node:util';

/**
 * A secret's bytes, wrapped so that it cannot leak by accident: string conversion, JSON and
 * util.inspect (console.log, debug dumps, error messages) all print `[REDACTED:<name>]`.
 * The plaintext is reachable only through `reveal()`, which makes every use greppable.
 */
export class SecretValue {
  readonly #bytes: Buffer;

  constructor(
    readonly name: string,
    bytes: Buffer | string,
  ) {
    this.#bytes = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  }

  reveal(): Buffer {
    return this.#bytes;
  }

  revealText(): string {
    return this.#bytes.toString('utf8');
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  toString(): string {
    return `[REDACTED:${this.name}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
