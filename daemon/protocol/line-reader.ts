// Splits a byte stream into lines with a hard cap on a line's size, so a peer that never sends a
// newline (or sends a gigabyte) costs at most `maxBytes` of memory.

export interface LineReaderOptions {
  maxBytes: number;
  onLine(line: string): void;
  /**
   * What happens to a line longer than maxBytes: 'drop' (the protocol) discards all of it and
   * reports its size to onOversized; 'split' (agent output) delivers it in pieces of at most maxBytes.
   */
  overflow?: 'drop' | 'split';
  onOversized?(bytes: number): void;
}

const NEWLINE = 0x0a;

export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of an oversized line being skipped until its newline ('drop' mode), else -1. */
  private discarding = -1;

  constructor(private readonly options: LineReaderOptions) {
    if (!Number.isInteger(options.maxBytes) || options.maxBytes < 4) throw new RangeError('LineReader: maxBytes must be an integer >= 4');
  }

  push(chunk: Buffer | string): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (;;) {
      const nl = buf.indexOf(NEWLINE);
      if (nl < 0) {
        this.append(buf);
        return;
      }
      this.append(buf.subarray(0, nl));
      this.finishLine();
      buf = buf.subarray(nl + 1);
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.size > 0 || this.discarding >= 0) this.finishLine();
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.discarding >= 0) {
      this.discarding += piece.length;
      return;
    }
    const max = this.options.maxBytes;
    if (this.size + piece.length <= max) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    if (this.options.overflow === 'split') {
      // Cut at character boundaries of everything held so far (a character may straddle chunks).
      let all = Buffer.concat([...this.parts, piece]);
      while (all.length > max) {
        const cut = utf8Boundary(all, max) || max;
        this.deliver(all.subarray(0, cut));
        all = all.subarray(cut);
      }
      this.parts = all.length > 0 ? [all] : [];
      this.size = all.length;
      return;
    }
    this.discarding = this.size + piece.length;
    this.parts = [];
    this.size = 0;
  }

  private finishLine(): void {
    if (this.discarding >= 0) {
      const bytes = this.discarding;
      this.discarding = -1;
      this.options.onOversized?.(bytes);
      return;
    }
    this.emitCurrent();
  }

  private emitCurrent(): void {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.deliver(line);
  }

  private deliver(line: Buffer): void {
    let text = line.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.options.onLine(text);
  }
}

/** The largest cut <= `at` that does not split a UTF-8 sequence (0 when none fits). */
function utf8Boundary(buf: Buffer, at: number): number {
  let cut = Math.max(0, Math.min(at, buf.length));
  // A continuation byte (10xxxxxx) must stay with the byte that started its sequence.
  while (cut > 0 && cut < buf.length && (buf[cut]! & 0xc0) === 0x80) cut -= 1;
  return cut;
}
