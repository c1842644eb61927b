// The body of a password-hashing worker thread (see passwords.ts): bcrypt is pure CPU for hundreds
// of milliseconds per call at cost 12, so it runs here, never on the daemon's event loop.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { PasswordJob, PasswordReply } from './passwords.js';

parentPort!.on('message', (job: PasswordJob) => {
  let reply: PasswordReply;
  try {
    const value = job.op === 'hash' ? bcrypt.hashSync(job.password, job.rounds) : bcrypt.compareSync(job.password, job.hash);
    reply = { id: job.id, value };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
