import type { SecretValue } from '../../domain/secret-value.js';
import type { SecretStore } from '../../ports/secret-store.js';

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
  ) {}

  read(name: string): Promise<SecretValue> {
    let value = this.#reads.get(name);
    if (value === undefined) {
      const previous = this.#last;
      value = (async () => {
        await previous.catch(() => undefined);
        return this.store.read(name, await this.password());
      })();
      this.#last = value;
      this.#reads.set(name, value);
    }
    return value;
  }

  clear(): void {
    this.#reads.clear();
  }
}
