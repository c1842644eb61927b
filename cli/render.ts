// How agent output and task outcomes read in a terminal. A command agent's stdout and an agent's
// answer are the "text" people pipe on; everything else (tool calls, thinking, errors, usage,
// task headers and outcomes) is commentary.
import type { PublicMessage } from '../daemon/services/messages/messages.shared.js';
import type { PublicTask } from '../daemon/services/tasks/tasks.shared.js';

export interface Line {
  text: string;
  /** The agent's answer itself (stdout of `prompt --wait`), as opposed to commentary (stderr). */
  answer: boolean;
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

const firstLine = (s: string, max = 120) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
};

/** One message as terminal lines; null for what a reader does not need (status notes). */
export function renderMessage(m: PublicMessage): Line | null {
  const c = (m.content ?? {}) as Record<string, unknown>;
  switch (m.type) {
    case 'text':
      return { text: asText(c.text ?? c), answer: c.stream !== 'stderr' };
    case 'thinking':
      return { text: `  (thinking) ${firstLine(asText(c.text))}`, answer: false };
    case 'tool_use': {
      const input = c.input && typeof c.input === 'object' ? Object.values(c.input as object).find((v) => typeof v === 'string') : undefined;
      return { text: `  → ${asText(c.name)}${input ? ` ${firstLine(String(input), 80)}` : ''}`, answer: false };
    }
    case 'tool_result': {
      const failed = c.is_error === true || c.status === 'error';
      return { text: `  ← ${failed ? 'error: ' : ''}${firstLine(asText(c.output ?? c.content ?? c.error)) || '(empty)'}`, answer: false };
    }
    case 'error':
      return { text: `error: ${asText(c.message) || 'the agent reported an error'}`, answer: false };
    case 'usage': {
      const parts = Object.entries(c)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`);
      return parts.length ? { text: `  (usage: ${parts.join(', ')})`, answer: false } : null;
    }
    default:
      return null;
  }
}

/** The line that opens a task in a log: who asked what, when. */
export function renderTaskStart(t: PublicTask, who: string): string {
  return `── ${t.created_at} ${who}: ${firstLine(t.prompt, 200)}`;
}

/** The line that closes a finished task; null while it is queued or running. */
export function renderTaskEnd(t: PublicTask): string | null {
  if (t.status === 'completed') return `── completed`;
  if (t.status === 'failed') return `── failed: ${t.reason ?? 'the agent failed'}`;
  if (t.status === 'stopped') return `── stopped: ${t.reason ?? 'stopped'}`;
  return null;
}

export const isFinished = (t: Pick<PublicTask, 'status'>) => t.status === 'completed' || t.status === 'failed' || t.status === 'stopped';
