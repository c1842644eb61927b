// A local stand-in for the OpenAI Responses API, good enough to drive the real Codex CLI (through
// @openai/codex-sdk) without any network. It listens on 127.0.0.1 only, answers
// `POST <base>/responses` with `stream: true` as SSE and plays a queue of scripted replies, one per
// request, in order; every request is recorded so a test can check what the CLI sent back (the
// function_call_output items, the prompt, the model).
//
// Each reply streams the full event sequence the real API sends: response.created,
// response.in_progress, then per output item response.output_item.added, its deltas
// (output_text / function_call_arguments / reasoning_summary_text) and response.output_item.done,
// then response.completed carrying the usage.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest, ScriptedFake } from './scripted.js';

export type FakeResponsesItem =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; summary: string }
  /** A function tool call; `arguments` is serialised to the JSON string the API sends. */
  | { type: 'function_call'; name: string; arguments: Record<string, unknown>; call_id?: string };

export type FakeResponsesReply =
  | { items: FakeResponsesItem[]; usage?: { input_tokens: number; output_tokens: number } }
  /** An HTTP error with an OpenAI-shaped error body (no SSE). */
  | { error: { status: number; type?: string; message: string } }
  /** Starts the stream (response.created) and never finishes it: for stop/abort tests. */
  | { hang: true };

export interface FakeResponses extends ScriptedFake<FakeResponsesReply> {
  /** Base URL for the provider's base_url (ends in /v1, no trailing slash). */
  url: string;
  /** Only the POST .../responses requests. */
  responseRequests(): RecordedRequest[];
}

const rid = (prefix: string) => `${prefix}_fake_${crypto.randomBytes(8).toString('hex')}`;

export async function startFakeResponses(replies: FakeResponsesReply[] = []): Promise<FakeResponses> {
  const queue: FakeResponsesReply[] = [...replies];
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const hanging = new Set<http.ServerResponse>();
  const isResponses = (r: RecordedRequest) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/responses';

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
      const count = requests.filter(isResponses).length;
      for (const w of waiters.splice(0)) {
        if (count >= w.n) w.resolve();
        else waiters.push(w);
      }

      const json = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!isResponses(recorded)) {
        json(404, { error: { type: 'invalid_request_error', message: `fake: no route ${req.method} ${req.url}` } });
        return;
      }
      if (!body || body.stream !== true) {
        json(400, { error: { type: 'invalid_request_error', message: 'fake: only stream:true is scripted' } });
        return;
      }
      const reply = queue.shift();
      if (!reply) {
        json(500, { error: { type: 'server_error', message: 'fake: no scripted reply left' } });
        return;
      }
      if ('error' in reply) {
        json(reply.error.status, { error: { type: reply.error.type ?? 'server_error', message: reply.error.message, code: null, param: null } });
        return;
      }

      const model = typeof body.model === 'string' ? body.model : 'fake-model';
      const responseId = rid('resp');
      const createdAt = Math.floor(Date.now() / 1000);
      let seq = 0;
      const send = (data: Record<string, unknown>) => {
        res.write(`event: ${String(data.type)}\ndata: ${JSON.stringify({ ...data, sequence_number: seq++ })}\n\n`);
      };
      const shell = (status: string, output: unknown[], usage?: unknown) => ({
        id: responseId, object: 'response', created_at: createdAt, status, model, output,
        parallel_tool_calls: true, tool_choice: 'auto', tools: [], error: null, incomplete_details: null,
        usage: usage ?? null,
      });
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': rid('req') });
      send({ type: 'response.created', response: shell('in_progress', []) });
      send({ type: 'response.in_progress', response: shell('in_progress', []) });
      if ('hang' in reply) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }

      const output: unknown[] = [];
      reply.items.forEach((spec, output_index) => {
        if (spec.type === 'text') {
          const id = rid('msg');
          const part = { type: 'output_text', text: spec.text, annotations: [] };
          send({ type: 'response.output_item.added', output_index, item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
          send({ type: 'response.content_part.added', item_id: id, output_index, content_index: 0, part: { ...part, text: '' } });
          send({ type: 'response.output_text.delta', item_id: id, output_index, content_index: 0, delta: spec.text });
          send({ type: 'response.output_text.done', item_id: id, output_index, content_index: 0, text: spec.text });
          send({ type: 'response.content_part.done', item_id: id, output_index, content_index: 0, part });
          const item = { id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
          send({ type: 'response.output_item.done', output_index, item });
          output.push(item);
        } else if (spec.type === 'reasoning') {
          const id = rid('rs');
          send({ type: 'response.output_item.added', output_index, item: { id, type: 'reasoning', summary: [] } });
          send({ type: 'response.reasoning_summary_part.added', item_id: id, output_index, summary_index: 0, part: { type: 'summary_text', text: '' } });
          send({ type: 'response.reasoning_summary_text.delta', item_id: id, output_index, summary_index: 0, delta: spec.summary });
          send({ type: 'response.reasoning_summary_text.done', item_id: id, output_index, summary_index: 0, text: spec.summary });
          send({ type: 'response.reasoning_summary_part.done', item_id: id, output_index, summary_index: 0, part: { type: 'summary_text', text: spec.summary } });
          const item = { id, type: 'reasoning', summary: [{ type: 'summary_text', text: spec.summary }] };
          send({ type: 'response.output_item.done', output_index, item });
          output.push(item);
        } else {
          const id = rid('fc');
          const callId = spec.call_id ?? rid('call');
          const args = JSON.stringify(spec.arguments);
          send({ type: 'response.output_item.added', output_index, item: { id, type: 'function_call', status: 'in_progress', call_id: callId, name: spec.name, arguments: '' } });
          send({ type: 'response.function_call_arguments.delta', item_id: id, output_index, delta: args });
          send({ type: 'response.function_call_arguments.done', item_id: id, output_index, arguments: args });
          const item = { id, type: 'function_call', status: 'completed', call_id: callId, name: spec.name, arguments: args };
          send({ type: 'response.output_item.done', output_index, item });
          output.push(item);
        }
      });
      const u = reply.usage ?? { input_tokens: 100, output_tokens: 20 };
      send({
        type: 'response.completed',
        response: shell('completed', output, {
          input_tokens: u.input_tokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: u.output_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: u.input_tokens + u.output_tokens,
        }),
      });
      res.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    responseRequests: () => requests.filter(isResponses),
    enqueue: (...more) => {
      queue.push(...more);
    },
    pending: () => queue.length,
    clearQueue: () => {
      queue.length = 0;
    },
    waitForRequests: (n, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.filter(isResponses).length >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`fake responses: waited ${timeoutMs} ms for ${n} requests`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The output of every function_call_output item in one request body, keyed by call_id. */
export function functionOutputsIn(body: any): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of Array.isArray(body?.input) ? body.input : []) {
    if (item?.type !== 'function_call_output' && item?.type !== 'custom_tool_call_output') continue;
    const output = item.output;
    const text = typeof output === 'string'
      ? output
      : Array.isArray(output)
        ? output.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('')
        : typeof output?.content === 'string' ? output.content : JSON.stringify(output);
    out.set(item.call_id, text);
  }
  return out;
}
