// Issue 15: decide() is the one authority. This test reads every daemon source outside
// daemon/rbac/ and fails on a role, tier or ownership comparison, so a new check written in a
// service instead of a row in the rules tables is caught at once. The allow-list holds only
// comparisons that decide nothing about what a caller may do; each says why.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const STRAY: { what: string; pattern: RegExp }[] = [
  { what: 'role rank helper', pattern: /\b(atLeast|roleRank|whyCannotGrant|whyCannotManage)\(/ },
  { what: 'role comparison', pattern: /\.role\s*[!=]==(?!\s*undefined)|[!=]==\s*[\w.?]*\.role\b|['"](viewer|member|admin|owner)['"]\s*[!=]==/ },
  { what: 'tier comparison', pattern: /\b(tierRank|minTier|tiersAtLeast)\(|others_can\s*[!=]==|[!=]==\s*[\w.?]*others_can\b/ },
  { what: 'ownership comparison', pattern: /\b(created_by|user_id|owner_id)\s*[!=]==\s*[\w.?]+\.id\b|\.id\s*[!=]==\s*[\w.?]*\.(created_by|user_id)\b|\.id\s*[!=]==\s*(subject|actor|viewer)\.id\b|\b(subject|actor|viewer)\.id\s*[!=]==/ },
];

/** file → line fragments that are not authorization, with the reason. */
const ALLOWED: Record<string, { fragment: string; why: string }[]> = {
  'daemon/services/users/users.class.ts': [
    { fragment: "before.role === 'owner' && !before.disabled &&", why: 'the last-owner invariant on the stored data, refused whoever asks (checked inside the write transaction)' },
    { fragment: "before.role === 'owner' && !before.disabled)", why: 'the same last-owner invariant, on removal' },
  ],
  'daemon/audit/service-hooks.ts': [{ fragment: 'before.role !== result.role', why: 'detects that a role changed, to write its audit event' }],
  'daemon/executor/agents/gemini.ts': [{ fragment: "event.role !== 'assistant'", why: "a chat message's role in the agent's output stream, not a user's" }],
  'daemon/auth/strategies.ts': [{ fragment: 'key.user_id !== user.id', why: 'authentication: the API key must belong to the user it names' }],
  'daemon/services/users/users.ts': [
    { fragment: 'if (target.id === actor.id) {', why: "picks the self-service path (name, password); managing oneself is refused by decide('user.manage')" },
  ],
  'daemon/services/sessions/sessions.class.ts': [
    { fragment: 'parent.created_by !== subject.id', why: "who a fork runs as (attribution) once decide('session.fork') allowed it" },
  ],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return full.endsWith(`${path.sep}rbac`) ? [] : sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('no authorization outside daemon/rbac/', () => {
  it('no role, tier or ownership comparison in the daemon sources, except the explained allow-list', () => {
    const files = sources(path.join(ROOT, 'daemon'));
    assert.ok(files.length > 100, `found only ${files.length} daemon sources under ${ROOT}daemon`);
    const stray: string[] = [];
    const used = new Set<string>();
    for (const file of files) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/');
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        for (const { what, pattern } of STRAY) {
          if (!pattern.test(line)) continue;
          const allowed = ALLOWED[rel]?.find((a) => line.includes(a.fragment));
          if (allowed) used.add(`${rel}: ${allowed.fragment}`);
          else stray.push(`${rel}:${i + 1} (${what}): ${line.trim()}`);
        }
      });
    }
    assert.deepEqual(stray, [], 'ask decide() (daemon/rbac/decide.ts, roles.ts) instead of comparing roles, tiers or owners here');
    const stale = Object.entries(ALLOWED).flatMap(([rel, list]) => list.map((a) => `${rel}: ${a.fragment}`)).filter((k) => !used.has(k));
    assert.deepEqual(stale, [], 'allow-list entries that match nothing any more: remove them');
  });

  it('the scan catches a stray check (the pattern is not vacuous)', () => {
    const hits = ["if (!atLeast(subject.role, 'member')) throw", "if (user.role === 'admin')", "if (board.created_by !== subject.id)", "w.others_can === 'all'"];
    for (const line of hits) assert.ok(STRAY.some((s) => s.pattern.test(line)), line);
  });
});
