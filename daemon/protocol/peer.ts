// One end of the executor pipe: reads JSON lines, validates each against the protocol, dispatches
// requests and notifications to handlers, matches responses to our requests, and writes validated
// messages. A bad line never throws out of here: it is logged (a bounded number of times) and,
// when it had an id, answered with a JSON-RPC error. Both the daemon and the executor use it.
import type { z } from 'zod';
import { LineReader } from './line-reader.js';
import { classifyEnvelope, describeZodError, JSONRPC, RpcErrorCode, type RpcError, type RpcId } from './jsonrpc.js';
import { MAX_JSON_DEPTH, MAX_LINE_BYTES, type ProtocolSide } from './methods.js';

/** Thrown by a request handler to answer with this code and message (the message reaches the peer). */
export class RpcHandlerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A request of ours answered with an error, or never answered. */
export class RpcRequestError extends Error {
  constructor(
    readonly method: string,
    readonly rpcError: RpcError,
  ) {
    super(`${method}: ${rpcError.message} (code ${rpcError.code})`);
  }
}

type ParamsOf<S extends ProtocolSide, M extends keyof S['requests']> = z.output<S['requests'][M]['params']>;
type ResultIn<S extends ProtocolSide, M extends keyof S['requests']> = z.input<S['requests'][M]['result']>;
type ResultOut<S extends ProtocolSide, M extends keyof S['requests']> = z.output<S['requests'][M]['result']>;
type NoteOf<S extends ProtocolSide, M extends keyof S['notifications']> = z.output<S['notifications'][M]>;
type NoteIn<S extends ProtocolSide, M extends keyof S['notifications']> = z.input<S['notifications'][M]>;

export interface PeerOptions<In extends ProtocolSide, Out extends ProtocolSide> {
  /** Names this end in log lines, e.g. "executor 1234 (task ab12)". */
  name: string;
  input: NodeJS.ReadableStream;
  /** Writes one line (the newline included); returns false when the stream wants to drain. */
  write: (line: string) => boolean;
  /** What the other end may send us. */
  incoming: In;
  /** What we may send. */
  outgoing: Out;
  log: (line: string) => void;
  maxLineBytes?: number;
  /** Protocol errors logged in full; later ones are only counted (a flood cannot flood the log). */
  maxLoggedErrors?: number;
}

interface Pending {
  method: string;
  schema: z.ZodType;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

export class RpcPeer<In extends ProtocolSide, Out extends ProtocolSide> {
  /** Lines received, and protocol errors seen (malformed, oversized, wrong-typed, unknown). */
  readonly stats = { lines: 0, errors: 0 };
  private readonly reader: LineReader;
  private readonly pending = new Map<RpcId, Pending>();
  private readonly requestHandlers = new Map<string, (params: unknown) => unknown>();
  private readonly notificationHandlers = new Map<string, (params: unknown) => void>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private nextId = 1;
  private closedReason: string | null = null;

  constructor(private readonly options: PeerOptions<In, Out>) {
    const maxBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.reader = new LineReader({
      maxBytes,
      overflow: 'drop',
      onLine: (line) => this.receive(line),
      onOversized: (bytes) => this.protocolError(null, RpcErrorCode.InvalidRequest, `line of ${bytes} bytes exceeds the ${maxBytes}-byte limit; dropped`),
    });
    options.input.on('data', (chunk: Buffer | string) => {
      try {
        this.reader.push(chunk);
      } catch (error) {
        this.options.log(`[protocol] ${this.options.name}: internal error while reading: ${(error as Error).message}`);
      }
    });
    options.input.on('end', () => {
      this.reader.end();
      this.close('input ended');
    });
    options.input.on('close', () => this.close('input closed'));
    options.input.on('error', (error: Error) => this.close(`input error: ${error.message}`));
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  onRequest<M extends keyof In['requests'] & string>(method: M, handler: (params: ParamsOf<In, M>) => ResultIn<In, M> | Promise<ResultIn<In, M>>): void {
    this.requestHandlers.set(method, handler as (params: unknown) => unknown);
  }

  onNotification<M extends keyof In['notifications'] & string>(method: M, handler: (params: NoteOf<In, M>) => void): void {
    this.notificationHandlers.set(method, handler as (params: unknown) => void);
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== null) listener(this.closedReason);
    else this.closeListeners.push(listener);
  }

  /** Sends a request; resolves with the validated result, rejects with RpcRequestError. */
  request<M extends keyof Out['requests'] & string>(method: M, params: z.input<Out['requests'][M]['params']>, { timeoutMs }: { timeoutMs?: number } = {}): Promise<ResultOut<Out, M>> {
    const spec = this.options.outgoing.requests[method];
    if (!spec) return Promise.reject(new Error(`unknown outgoing request ${method}`));
    const checked = spec.params.safeParse(params);
    if (!checked.success) return Promise.reject(new Error(`${method}: refusing to send invalid params: ${describeZodError(checked.error)}`));
    if (this.closedReason !== null) return Promise.reject(new RpcRequestError(method, { code: RpcErrorCode.InternalError, message: `connection closed (${this.closedReason})` }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { method, schema: spec.result, resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RpcRequestError(method, { code: RpcErrorCode.InternalError, message: `no answer within ${timeoutMs} ms` }));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.send({ jsonrpc: JSONRPC, id, method, params: checked.data });
    });
  }

  /** Sends a notification after validating it; returns false if the output wants to drain. */
  notify<M extends keyof Out['notifications'] & string>(method: M, params: NoteIn<Out, M>): boolean {
    const schema = this.options.outgoing.notifications[method];
    if (!schema) throw new Error(`unknown outgoing notification ${method}`);
    const checked = schema.safeParse(params);
    if (!checked.success) throw new Error(`${method}: refusing to send invalid params: ${describeZodError(checked.error)}`);
    return this.send({ jsonrpc: JSONRPC, method, params: checked.data });
  }

  pause(): void {
    this.options.input.pause();
  }

  resume(): void {
    this.options.input.resume();
  }

  /** Stops answering; rejects every request still waiting. Idempotent. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new RpcRequestError(entry.method, { code: RpcErrorCode.InternalError, message: `connection closed (${reason})` }));
      this.pending.delete(id);
    }
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private send(message: Record<string, unknown>): boolean {
    if (this.closedReason !== null) return false;
    let line: string;
    try {
      line = JSON.stringify(message) + '\n';
    } catch (error) {
      this.options.log(`[protocol] ${this.options.name}: cannot serialise ${String(message.method ?? 'response')}: ${(error as Error).message}`);
      return false;
    }
    try {
      return this.options.write(line);
    } catch (error) {
      this.close(`write failed: ${(error as Error).message}`);
      return false;
    }
  }

  private respondError(id: RpcId | null, code: number, message: string): void {
    this.send({ jsonrpc: JSONRPC, id, error: { code, message } });
  }

  /** Logs (boundedly) and, when the offending message had an id, answers it with an error. */
  private protocolError(id: RpcId | null, code: number, message: string, answer = true): void {
    this.stats.errors += 1;
    const max = this.options.maxLoggedErrors ?? 20;
    if (this.stats.errors <= max) this.options.log(`[protocol] ${this.options.name}: ${message}${id !== null ? ` (id ${JSON.stringify(id)})` : ''}`);
    else if (this.stats.errors === max + 1) this.options.log(`[protocol] ${this.options.name}: more protocol errors; no longer logging them`);
    // JSON-RPC: errors in detecting the id are answered with id null.
    if (answer) this.respondError(id, code, message);
  }

  private receive(line: string): void {
    if (line.trim() === '') return;
    this.stats.lines += 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.protocolError(null, RpcErrorCode.ParseError, `unparseable line of ${Buffer.byteLength(line)} bytes`);
      return;
    }
    if (jsonDepth(value) > MAX_JSON_DEPTH) {
      this.protocolError(null, RpcErrorCode.InvalidRequest, `message nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    const envelope = classifyEnvelope(value);
    switch (envelope.kind) {
      case 'invalid':
        // Never answer something that might itself be a response (no ping-pong of errors).
        this.protocolError(envelope.id, RpcErrorCode.InvalidRequest, `invalid message: ${envelope.reason}`, envelope.id !== null || !looksLikeResponse(value));
        return;
      case 'success':
      case 'failure':
        this.settle(envelope.message.id, envelope.kind === 'success' ? { result: envelope.message.result } : { error: envelope.message.error });
        return;
      case 'notification': {
        const { method, params } = envelope.message;
        const schema = this.options.incoming.notifications[method];
        const handler = this.notificationHandlers.get(method);
        if (!schema || !handler) {
          this.protocolError(null, RpcErrorCode.MethodNotFound, `unknown notification ${JSON.stringify(method)}`, false);
          return;
        }
        const parsed = schema.safeParse(params);
        if (!parsed.success) {
          this.protocolError(null, RpcErrorCode.InvalidParams, `invalid params for ${method}: ${describeZodError(parsed.error)}`, false);
          return;
        }
        try {
          handler(parsed.data);
        } catch (error) {
          this.options.log(`[protocol] ${this.options.name}: the ${method} handler failed: ${(error as Error).message}`);
        }
        return;
      }
      case 'request': {
        const { id, method, params } = envelope.message;
        const spec = this.options.incoming.requests[method];
        const handler = this.requestHandlers.get(method);
        if (!spec || !handler) {
          this.protocolError(id, RpcErrorCode.MethodNotFound, `unknown method ${JSON.stringify(method)}`);
          return;
        }
        const parsed = spec.params.safeParse(params);
        if (!parsed.success) {
          this.protocolError(id, RpcErrorCode.InvalidParams, `invalid params for ${method}: ${describeZodError(parsed.error)}`);
          return;
        }
        void this.answer(id, method, spec.result, () => handler(parsed.data));
        return;
      }
    }
  }

  private async answer(id: RpcId, method: string, resultSchema: z.ZodType, run: () => unknown): Promise<void> {
    try {
      const result = resultSchema.safeParse(await run());
      if (!result.success) {
        this.options.log(`[protocol] ${this.options.name}: our ${method} handler produced an invalid result: ${describeZodError(result.error)}`);
        this.respondError(id, RpcErrorCode.InternalError, `${method} failed`);
        return;
      }
      this.send({ jsonrpc: JSONRPC, id, result: result.data });
    } catch (error) {
      if (error instanceof RpcHandlerError) {
        this.respondError(id, error.code, error.message);
        return;
      }
      this.options.log(`[protocol] ${this.options.name}: the ${method} handler failed: ${(error as Error).message}`);
      this.respondError(id, RpcErrorCode.InternalError, `${method} failed`);
    }
  }

  private settle(id: RpcId | null, outcome: { result: unknown } | { error: RpcError }): void {
    const entry = id === null ? undefined : this.pending.get(id);
    if (!entry) {
      const what = 'error' in outcome ? `error response (code ${outcome.error.code}: ${outcome.error.message.slice(0, 200)})` : 'response';
      this.protocolError(null, RpcErrorCode.InvalidRequest, `${what} to no request of ours${id !== null ? ` (id ${JSON.stringify(id)})` : ''}`, false);
      return;
    }
    this.pending.delete(id!);
    clearTimeout(entry.timer);
    if ('error' in outcome) {
      entry.reject(new RpcRequestError(entry.method, outcome.error));
      return;
    }
    const parsed = entry.schema.safeParse(outcome.result);
    if (!parsed.success) {
      this.stats.errors += 1;
      entry.reject(new RpcRequestError(entry.method, { code: RpcErrorCode.InvalidParams, message: `invalid result: ${describeZodError(parsed.error)}` }));
      return;
    }
    entry.resolve(parsed.data);
  }
}

function looksLikeResponse(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && ('result' in value || 'error' in value);
}

/** Nesting depth of a parsed JSON value, computed without recursion (a deep value cannot blow the stack). */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH + 1): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    if (max >= limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return max;
}
