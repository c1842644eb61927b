import type http from 'node:http';

/** What every fake model server records of a request. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** The scripted-reply queue and recording every fake model server offers its tests. */
export interface ScriptedFake<Reply> {
  /** Base URL to point the agent's CLI at. */
  url: string;
  /** Every request, in arrival order (including unexpected ones). */
  requests: RecordedRequest[];
  /** Appends replies to the queue. */
  enqueue(...replies: Reply[]): void;
  /** Replies still waiting in the queue. */
  pending(): number;
  /** Drops the replies still queued (a test that ended before using them all). */
  clearQueue(): void;
  /** Resolves once `n` scripted requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
