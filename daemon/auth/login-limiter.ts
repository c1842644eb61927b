/**
 * Counts failed logins per key (an account's email, a remote address) in a fixed window and
 * refuses further attempts once a key reaches the limit. Memory is bounded: past `maxKeys` the
 * oldest entries are dropped (Map keeps insertion order), so a flood of random emails cannot
 * grow it without end.
 */
interface Entry {
  failures: number;
  windowStart: number;
}

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    // Read at each call (not Date.now captured once), so a test can move the clock of a running daemon.
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Seconds until the first blocked key may try again, or 0 when none is blocked. */
  retryAfter(keys: string[]): number {
    let wait = 0;
    for (const key of keys) {
      const entry = this.live(key);
      if (entry && entry.failures >= this.maxFailures) {
        wait = Math.max(wait, Math.ceil((entry.windowStart + this.windowMs - this.now()) / 1000));
      }
    }
    return wait;
  }

  recordFailure(keys: string[]): void {
    for (const key of keys) {
      const entry = this.live(key) ?? { failures: 0, windowStart: this.now() };
      entry.failures += 1;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.windowStart >= this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
