import type { SecretValue } from '../../domain/secret-value.js';
import type { SecretStore } from '../../ports/secret-store.js';

/**
 * Every stored secret decrypted at most once per deploy, whatever the number of hosts that use
 * it. Each read of a v1 file costs one scrypt derivation (~85 ms of a libuv thread); reading per
 * host made a 32-host deploy spend most of its time there. Concurrent callers share one read, and
 * a failed read fails every caller the same way. `clear` drops the plaintexts when the deploy no
 * longer needs them.
 */
export class DecryptOnce {
  readonly #reads = new Map<string, Promise<SecretValue>>();

  constructor(
    private readonly store: SecretStore,
    private readonly password: () => Promise<SecretValue>,
  ) {}

  read(name: string): Promise<SecretValue> {
    let value = this.#reads.get(name);
    if (value === undefined) {
      value = this.password().then((password) => this.store.read(name, password));
      this.#reads.set(name, value);
    }
    return value;
  }

  clear(): void {
    this.#reads.clear();
  }
}
