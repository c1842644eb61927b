// A local stand-in for the Gemini API (generativelanguage v1beta), good enough to drive the real
// Gemini CLI without any network. It listens on 127.0.0.1 only. `POST
// /v1beta/models/<model>:streamGenerateContent?alt=sse` plays a queue of scripted replies, one per
// request, as SSE chunks (`data: <GenerateContentResponse>`), the last one carrying finishReason and
// usageMetadata. Other model calls the CLI makes on its own (countTokens; generateContent for its
// internal checks) get a neutral answer and are recorded but do not consume the queue.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest, ScriptedFake } from './scripted.js';

export type FakeGeminiPart =
  | { type: 'text'; text: string }
  | { type: 'thought'; text: string }
  | { type: 'function_call'; name: string; args: Record<string, unknown> };

export type FakeGeminiReply =
  | { parts: FakeGeminiPart[]; usage?: { input_tokens: number; output_tokens: number } }
  | { error: { status: number; message: string } }
  | { hang: true };

export interface FakeGemini extends ScriptedFake<FakeGeminiReply> {
  /** Value for GOOGLE_GEMINI_BASE_URL (no trailing slash). */
  url: string;
  /** Only the streamGenerateContent requests (the scripted ones). */
  streamRequests(): RecordedRequest[];
}

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

function partJson(p: FakeGeminiPart): Record<string, unknown> {
  if (p.type === 'text') return { text: p.text };
  if (p.type === 'thought') return { text: p.text, thought: true };
  return { functionCall: { name: p.name, args: p.args } };
}

export async function startFakeGemini(replies: FakeGeminiReply[] = []): Promise<FakeGemini> {
  const queue: FakeGeminiReply[] = [...replies];
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const hanging = new Set<http.ServerResponse>();
  const isStream = (r: RecordedRequest) => r.method === 'POST' && /:streamGenerateContent$/.test(new URL(r.url, 'http://x').pathname);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* keep the raw text */
      }
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      const count = requests.filter(isStream).length;
      for (const w of waiters.splice(0)) {
        if (count >= w.n) w.resolve();
        else waiters.push(w);
      }
      const json = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const pathname = new URL(recorded.url, 'http://x').pathname;
      const modelVersion = /models\/([^:]+):/.exec(pathname)?.[1] ?? 'gemini-fake';

      if (pathname.endsWith(':countTokens')) {
        json(200, { totalTokens: 42 });
        return;
      }
      if (pathname.endsWith(':generateContent')) {
        // The CLI's own side calls (routing, next-speaker and loop checks): a neutral JSON answer.
        json(200, {
          candidates: [{ content: { role: 'model', parts: [{ text: '{}' }] }, finishReason: 'STOP', index: 0 }],
          usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 },
          modelVersion,
        });
        return;
      }
      if (!isStream(recorded)) {
        json(404, { error: { code: 404, message: `fake: no route ${req.method} ${req.url}`, status: 'NOT_FOUND' } });
        return;
      }
      const reply = queue.shift();
      if (!reply) {
        json(500, { error: { code: 500, message: 'fake: no scripted reply left', status: 'INTERNAL' } });
        return;
      }
      if ('error' in reply) {
        json(reply.error.status, { error: { code: reply.error.status, message: reply.error.message, status: STATUS_NAMES[reply.error.status] ?? 'UNKNOWN' } });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if ('hang' in reply) {
        res.write(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, index: 0 }], modelVersion })}\r\n\r\n`);
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const u = reply.usage ?? { input_tokens: 100, output_tokens: 20 };
      reply.parts.forEach((part, i) => {
        const last = i === reply.parts.length - 1;
        const chunk: Record<string, unknown> = {
          candidates: [{ content: { role: 'model', parts: [partJson(part)] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
          modelVersion,
          responseId: `fake-${Date.now()}`,
        };
        if (last) chunk.usageMetadata = { promptTokenCount: u.input_tokens, candidatesTokenCount: u.output_tokens, totalTokenCount: u.input_tokens + u.output_tokens };
        res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      });
      res.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    streamRequests: () => requests.filter(isStream),
    enqueue: (...more) => {
      queue.push(...more);
    },
    pending: () => queue.length,
    clearQueue: () => {
      queue.length = 0;
    },
    waitForRequests: (n, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.filter(isStream).length >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`fake gemini: waited ${timeoutMs} ms for ${n} requests`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The functionResponse parts the CLI sent back in one request body, by function name (in order). */
export function functionResponsesIn(body: any): Array<{ name: string; response: unknown }> {
  const out: Array<{ name: string; response: unknown }> = [];
  for (const content of body?.contents ?? []) {
    for (const part of content?.parts ?? []) {
      if (part?.functionResponse) out.push({ name: part.functionResponse.name, response: part.functionResponse.response });
    }
  }
  return out;
}
