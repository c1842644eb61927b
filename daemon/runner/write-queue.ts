// Streamed agent output is persisted in batches: one transaction per ≤ maxBatch messages or per
// ≤ maxDelayMs, whichever comes first. Batches are written one after another, so messages keep
// their order (ids ascend in arrival order) across tasks and flushes.

export interface WriteQueueOptions<T> {
  write(batch: T[]): Promise<void>;
  log(line: string): void;
  maxBatch?: number;
  maxDelayMs?: number;
}

export class WriteQueue<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: WriteQueueOptions<T>) {
    this.maxBatch = options.maxBatch ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 50;
  }

  /** Buffered plus being written. */
  get pending(): number {
    return this.buffer.length + this.inFlight;
  }

  push(item: T): void {
    this.buffer.push(item);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
  }

  /** Writes everything pushed so far; resolves once it is written (failures are logged, not thrown). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      this.inFlight += batch.length;
      this.chain = this.chain
        .then(() => this.options.write(batch))
        .catch((error: Error) => this.options.log(`[runner] could not store ${batch.length} message(s): ${error.message}`))
        .finally(() => (this.inFlight -= batch.length));
    }
    return this.chain;
  }
}
