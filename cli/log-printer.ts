// Prints a session's conversation: each task's header (who asked what), the agent's output, and
// the outcome. With --json, one object per line: {"task": …} when a task opens and when it ends,
// {"message": …} for each message.
import { isFinished, renderMessage, renderTaskEnd, renderTaskStart } from './render.js';
import type { PublicMessage } from '../daemon/services/messages/messages.shared.js';
import type { PublicTask } from '../daemon/services/tasks/tasks.shared.js';

export interface PrinterOptions {
  json: boolean | undefined;
  /** Print a header line for each task (a log); `prompt --wait` knows what it just asked. */
  headers: boolean;
  /** The agent's answer on stdout and the commentary on stderr (prompt --wait); else all on stdout. */
  split: boolean;
  who(userId: string): string;
}

export class LogPrinter {
  private readonly opened = new Set<string>();
  private readonly closed = new Set<string>();
  private readonly tasks = new Map<string, PublicTask>();

  constructor(private readonly options: PrinterOptions) {}

  private write(text: string, answer: boolean): void {
    (this.options.split && !answer ? process.stderr : process.stdout).write(`${text}\n`);
  }

  private open(t: PublicTask): void {
    if (this.opened.has(t.id)) return;
    this.opened.add(t.id);
    if (this.options.json) this.write(JSON.stringify({ task: t }), true);
    else if (this.options.headers) this.write(renderTaskStart(t, this.options.who(t.created_by)), false);
  }

  private close(t: PublicTask): void {
    if (this.closed.has(t.id)) return;
    const wasOpen = this.opened.has(t.id);
    this.open(t);
    this.closed.add(t.id);
    if (this.options.json) {
      if (wasOpen) this.write(JSON.stringify({ task: t }), true); // else open() just printed it as it ended
    }
    else this.write(renderTaskEnd(t)!, false);
  }

  /** A task as read or as an event: opened once it runs, closed once it has finished. */
  task(t: PublicTask): void {
    this.tasks.set(t.id, t);
    if (t.status === 'queued') return;
    this.open(t);
    if (isFinished(t)) this.close(t);
  }

  /** Opens the task before its first message (the header says whose output follows). */
  message(m: PublicMessage): void {
    const t = this.tasks.get(m.task_id);
    if (t) this.open(t);
    if (this.options.json) return this.write(JSON.stringify({ message: m }), true);
    const line = renderMessage(m);
    if (line) this.write(line.text, line.answer);
  }

  /**
   * Tasks with their messages, in order (`deliver` passes each message on, once): the history at
   * the start, and what happened while a follower's connection was down (tasks already opened or
   * closed are not printed again).
   */
  history(tasks: PublicTask[], messages: PublicMessage[], deliver: (m: PublicMessage) => void): void {
    const byTask = new Map<string, PublicMessage[]>();
    for (const m of messages) {
      const list = byTask.get(m.task_id);
      if (list) list.push(m);
      else byTask.set(m.task_id, [m]);
    }
    for (const t of tasks) {
      this.tasks.set(t.id, t);
      if (t.status === 'queued' && !byTask.has(t.id)) continue;
      this.open(t);
      for (const m of byTask.get(t.id) ?? []) deliver(m);
      byTask.delete(t.id);
      if (isFinished(t)) this.close(t);
    }
    // Messages of tasks beyond the listing's bound: still shown, without a header.
    for (const m of [...byTask.values()].flat().sort((a, b) => a.id - b.id)) deliver(m);
  }
}
