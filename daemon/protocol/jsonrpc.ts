// The JSON-RPC 2.0 envelope, as used on the executor pipe: one JSON object per line.
import { z } from 'zod';

export const JSONRPC = '2.0' as const;

/** Standard JSON-RPC error codes (and the one of ours: the line was longer than allowed). */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Server-defined range: the request was understood and refused (e.g. a second run_task). */
  Refused: -32000,
} as const;

export const rpcIdSchema = z.union([z.string().max(64), z.number().int().safe()]);
export type RpcId = z.output<typeof rpcIdSchema>;

export const rpcErrorSchema = z.strictObject({
  code: z.number().int(),
  message: z.string().max(4096),
  data: z.unknown().optional(),
});
export type RpcError = z.output<typeof rpcErrorSchema>;

const methodName = z.string().regex(/^[a-z_]{1,64}$/, 'must be a method name');

export const rpcRequestSchema = z.strictObject({ jsonrpc: z.literal(JSONRPC), id: rpcIdSchema, method: methodName, params: z.unknown().optional() });
export const rpcNotificationSchema = z.strictObject({ jsonrpc: z.literal(JSONRPC), method: methodName, params: z.unknown().optional() });
export const rpcSuccessSchema = z.strictObject({ jsonrpc: z.literal(JSONRPC), id: rpcIdSchema, result: z.unknown() });
export const rpcFailureSchema = z.strictObject({ jsonrpc: z.literal(JSONRPC), id: rpcIdSchema.nullable(), error: rpcErrorSchema });

export type RpcRequest = z.output<typeof rpcRequestSchema>;
export type RpcNotification = z.output<typeof rpcNotificationSchema>;
export type RpcSuccess = z.output<typeof rpcSuccessSchema>;
export type RpcFailure = z.output<typeof rpcFailureSchema>;

export type RpcEnvelope =
  | { kind: 'request'; message: RpcRequest }
  | { kind: 'notification'; message: RpcNotification }
  | { kind: 'success'; message: RpcSuccess }
  | { kind: 'failure'; message: RpcFailure };

/** Classifies a parsed JSON value, or returns why it is not a JSON-RPC message. */
export function classifyEnvelope(value: unknown): RpcEnvelope | { kind: 'invalid'; reason: string; id: RpcId | null } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', reason: Array.isArray(value) ? 'batches are not supported: send one object per line' : 'a message must be a JSON object', id: null };
  }
  const record = value as Record<string, unknown>;
  const id = rpcIdSchema.safeParse(record.id).success ? (record.id as RpcId) : null;
  if ('method' in record) {
    const schema = 'id' in record ? rpcRequestSchema : rpcNotificationSchema;
    const parsed = schema.safeParse(value);
    if (!parsed.success) return { kind: 'invalid', reason: describeZodError(parsed.error), id };
    return 'id' in record ? { kind: 'request', message: parsed.data as RpcRequest } : { kind: 'notification', message: parsed.data as RpcNotification };
  }
  if ('result' in record) {
    const parsed = rpcSuccessSchema.safeParse(value);
    if (parsed.success) return { kind: 'success', message: parsed.data };
    return { kind: 'invalid', reason: describeZodError(parsed.error), id: null };
  }
  if ('error' in record) {
    const parsed = rpcFailureSchema.safeParse(value);
    if (parsed.success) return { kind: 'failure', message: parsed.data };
    return { kind: 'invalid', reason: describeZodError(parsed.error), id: null };
  }
  return { kind: 'invalid', reason: 'neither a request, a notification nor a response', id };
}

/**
 * A short description of what was wrong: paths and expectations only, never the offending values
 * (a line can carry anything, and both ends log these).
 */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.slice(0, 5).join(', ')}` : issue.message}`)
    .join('; ')
    .slice(0, 1000);
}
