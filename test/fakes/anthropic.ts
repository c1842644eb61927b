// A local stand-in for the Anthropic Messages API, good enough to drive the real Claude Code CLI
// (through @anthropic-ai/claude-agent-sdk) without any network. It listens on 127.0.0.1 only,
// answers `POST /v1/messages` (the CLI adds `?beta=true`) with `stream: true` as SSE, and plays a
// queue of scripted replies, one per request, in order. Every request body is recorded so a test
// can check what the CLI sent back (tool results, the prompt, the model name).
//
// The SSE sequence is the complete one the real API sends (message_start, then per content block
// content_block_start / delta / content_block_stop, then message_delta with stop_reason and usage,
// then message_stop): the CLI treats a stream without message_stop as cut off and retries.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest, ScriptedFake } from './scripted.js';

export type FakeAnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

export type FakeAnthropicReply =
  /** A normal streamed message; stop_reason is tool_use when any block is a tool_use, else end_turn. */
  | { blocks: FakeAnthropicBlock[]; usage?: { input_tokens: number; output_tokens: number } }
  /** An HTTP error with an Anthropic-shaped error body (no SSE). */
  | { error: { status: number; type?: string; message: string } }
  /** Starts the stream (message_start) and then never finishes it: for stop/abort tests. */
  | { hang: true };

export interface FakeAnthropic extends ScriptedFake<FakeAnthropicReply> {
  /** Base URL to give the CLI as ANTHROPIC_BASE_URL (no trailing slash, no /v1). */
  url: string;
  /** Only the POST /v1/messages requests. */
  messageRequests(): RecordedRequest[];
}

export const FAKE_MODEL = 'claude-fake-1';

function sse(res: http.ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function messageId(): string {
  return `msg_fake_${crypto.randomBytes(8).toString('hex')}`;
}

export function toolUseId(): string {
  return `toolu_fake_${crypto.randomBytes(8).toString('hex')}`;
}

function streamReply(res: http.ServerResponse, model: string, reply: Extract<FakeAnthropicReply, { blocks: unknown }>): void {
  const usage = reply.usage ?? { input_tokens: 100, output_tokens: 20 };
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': `req_fake_${crypto.randomBytes(6).toString('hex')}`,
  });
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  });
  reply.blocks.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else if (block.type === 'thinking') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } });
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: crypto.randomBytes(24).toString('base64') },
      });
    } else {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id ?? toolUseId(), name: block.name, input: {} },
      });
      // The real API streams tool input as partial JSON; one delta holding all of it is valid.
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  const stopReason = reply.blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeAnthropic(replies: FakeAnthropicReply[] = []): Promise<FakeAnthropic> {
  const queue: FakeAnthropicReply[] = [...replies];
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const hanging = new Set<http.ServerResponse>();
  const isMessages = (r: RecordedRequest) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages';

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
      const count = requests.filter(isMessages).length;
      for (const w of waiters.splice(0)) {
        if (count >= w.n) w.resolve();
        else waiters.push(w);
      }

      if (!isMessages(recorded)) {
        sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${req.method} ${req.url}` } });
        return;
      }
      if (!body || body.stream !== true) {
        sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'fake: only stream:true is scripted' } });
        return;
      }
      const reply = queue.shift();
      if (!reply) {
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: 'fake: no scripted reply left' } });
        return;
      }
      if ('error' in reply) {
        sendJson(res, reply.error.status, { type: 'error', error: { type: reply.error.type ?? 'api_error', message: reply.error.message } });
        return;
      }
      if ('hang' in reply) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        sse(res, 'message_start', {
          type: 'message_start',
          message: {
            id: messageId(), type: 'message', role: 'assistant', model: body.model ?? FAKE_MODEL, content: [],
            stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 },
          },
        });
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      streamReply(res, typeof body.model === 'string' ? body.model : FAKE_MODEL, reply);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messageRequests: () => requests.filter(isMessages),
    enqueue: (...more) => {
      queue.push(...more);
    },
    pending: () => queue.length,
    clearQueue: () => {
      queue.length = 0;
    },
    waitForRequests: (n, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.filter(isMessages).length >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`fake anthropic: waited ${timeoutMs} ms for ${n} requests`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The text of every tool_result block the CLI sent in one request body, keyed by tool_use_id. */
export function toolResultsIn(body: any): Map<string, string> {
  const out = new Map<string, string>();
  for (const message of body?.messages ?? []) {
    if (message.role !== 'user' || !Array.isArray(message.content)) continue;
    for (const block of message.content) {
      if (block.type !== 'tool_result') continue;
      const text = typeof block.content === 'string'
        ? block.content
        : (block.content ?? []).map((c: any) => (c.type === 'text' ? c.text : '')).join('');
      out.set(block.tool_use_id, text);
    }
  }
  return out;
}
