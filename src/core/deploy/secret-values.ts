import { UserError } from '../../domain/errors.js';
import type { SecretValue } from '../../domain/secret-value.js';
import { isLegacyFormat, type SecretFormat, type SecretStore } from '../../ports/secret-store.js';

export interface DecryptOptions {
  /** --allow-legacy-secrets: read the Dart tool's files too, each reported through `onLegacy`. */
  readonly allowLegacy?: boolean;
  readonly onLegacy?: (name: string, format: SecretFormat) => void;
}

/**
 * Every stored secret decrypted at most once per deploy, whatever the number of hosts that use
 * it. Each read of a v1 file costs one scrypt derivation (~85 ms of a libuv thread); reading per
 * host made a 32-host deploy spend most of its time there. Concurrent callers share one read, and
 * a failed read fails every caller the same way. Reads run one after another: each holds 32 MiB
 * for scrypt, and the deploy's other derivation (the manifest key) already runs beside them, which
 * keeps both cores of a small machine busy without doubling the memory peak. `clear` drops the
 * plaintexts when the deploy no longer needs them.
 */
export class DecryptOnce {
  readonly #reads = new Map<string, Promise<SecretValue>>();
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: SecretStore,
    private readonly password: () => Promise<SecretValue>,
    private readonly options: DecryptOptions = {},
  ) {}

  /** A value already decrypted for this run (the password check's witness). */
  seed(name: string, value: SecretValue): void {
    if (!this.#reads.has(name)) this.#reads.set(name, Promise.resolve(value));
  }

  read(name: string): Promise<SecretValue> {
    let value = this.#reads.get(name);
    if (value === undefined) {
      const previous = this.#last;
      value = (async () => {
        await previous.catch(() => undefined);
        return this.readChecked(name);
      })();
      this.#last = value;
      this.#reads.set(name, value);
    }
    return value;
  }

  /** Legacy files only when allowed (and then named); an empty value is never deployed. */
  private async readChecked(name: string): Promise<SecretValue> {
    const allowLegacy = this.options.allowLegacy === true;
    if (allowLegacy) {
      const format = await this.store.formatOf(name);
      if (format !== undefined && isLegacyFormat(format)) this.options.onLegacy?.(name, format);
    }
    const value = await this.store.read(name, await this.password(), { allowLegacy });
    if (value.byteLength === 0) {
      throw new UserError(`secrets/${name} holds an empty value; refusing to deploy an empty credential`, {
        hints: [`store the real value with \`nix-infra secrets store --name ${name}\``],
      });
    }
    return value;
  }

  clear(): void {
    this.#reads.clear();
  }
}
