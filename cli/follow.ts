// Follows messages and task changes over Socket.IO without losing or repeating any: events are
// held back while what came before them is read over the API (at the start and after every
// reconnect), and a message is delivered only once, in id order.
import type { Live } from './live.js';
import { onReconnected } from './live.js';
import { CliError } from './errors.js';
import { messagesPath, type PublicMessage } from '../daemon/services/messages/messages.shared.js';
import { tasksPath, type PublicTask } from '../daemon/services/tasks/tasks.shared.js';

type Event = { message: PublicMessage } | { task: PublicTask };

export interface FollowHandlers {
  wants(e: { message: PublicMessage } | { task: PublicTask }): boolean;
  message(m: PublicMessage): void;
  task(t: PublicTask): void;
  /** Reads what may have been missed (first at start, then after each reconnect). */
  resync(): Promise<void>;
  /** The connection stayed down too long: the follower gives up. */
  lost(error: Error): void;
}

/** How long a dropped connection may take to come back before following gives up. */
const RECONNECT_GRACE_MS = 30_000;

export class Follower {
  private held: Event[] | null = [];
  private lastId = 0;
  /** Messages delivered so far: the $skip of the next catch-up read (messages are append-only, in id order). */
  delivered = 0;
  private lostTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly live: Live,
    private readonly handlers: FollowHandlers,
  ) {
    const messages = live.app.service(messagesPath);
    const tasks = live.app.service(tasksPath);
    messages.on('created', (m: PublicMessage) => this.receive({ message: m }));
    for (const event of ['created', 'patched']) tasks.on(event, (t: PublicTask) => this.receive({ task: t }));
    live.socket.on('disconnect', (reason) => {
      if (this.closed) return; // our own close(): no reconnect to wait for
      // The daemon itself closed it (account disabled, daemon stopping): socket.io will not reconnect.
      if (reason === 'io server disconnect') return handlers.lost(new CliError(`The daemon at ${live.url} closed the connection`));
      this.held ??= [];
      this.lostTimer ??= setTimeout(() => handlers.lost(new CliError(`Lost the connection to the daemon at ${live.url} for ${RECONNECT_GRACE_MS / 1000}s`)), RECONNECT_GRACE_MS);
    });
    onReconnected(live, () => {
      clearTimeout(this.lostTimer);
      this.lostTimer = undefined;
      this.resync().catch((error: Error) => handlers.lost(error));
    });
  }

  private receive(e: Event): void {
    if (this.held) this.held.push(e);
    else this.dispatch(e);
  }

  private dispatch(e: Event): void {
    if (!this.handlers.wants(e)) return;
    if ('message' in e) this.deliver(e.message);
    else this.handlers.task(e.task);
  }

  /** Delivers a message read over the API or received as an event, once. */
  deliver(m: PublicMessage): void {
    if (m.id <= this.lastId) return;
    this.lastId = m.id;
    this.delivered += 1;
    this.handlers.message(m);
  }

  /** Holds events back while `handlers.resync` reads, then releases them in arrival order. */
  async resync(): Promise<void> {
    this.held ??= [];
    try {
      await this.handlers.resync();
    } finally {
      const held = this.held ?? [];
      this.held = null;
      for (const e of held) this.dispatch(e);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.lostTimer);
    this.live.close();
  }
}
