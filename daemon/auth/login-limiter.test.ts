import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoginLimiter } from './login-limiter.js';

describe('LoginLimiter (injected clock)', () => {
  it('blocks a key at the limit until its window has passed, then forgets it', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(3, 6000, 100, () => now);
    for (let i = 0; i < 2; i++) limiter.recordFailure(['a']);
    assert.equal(limiter.retryAfter(['a']), 0, 'under the limit');
    limiter.recordFailure(['a']);
    assert.equal(limiter.retryAfter(['a']), 6);
    assert.equal(limiter.retryAfter(['b']), 0, 'another key is not blocked');
    now += 5001;
    assert.equal(limiter.retryAfter(['a']), 1, 'Retry-After counts down on the clock');
    now += 999;
    assert.equal(limiter.retryAfter(['a']), 0, 'the window has passed');
    assert.equal(limiter.size, 0, 'and the key is forgotten');
  });

  it('keeps at most maxKeys entries, dropping the oldest', () => {
    const limiter = new LoginLimiter(1, 6000, 2, () => 0);
    for (const key of ['a', 'b', 'c']) limiter.recordFailure([key]);
    assert.equal(limiter.size, 2);
    assert.deepEqual([limiter.retryAfter(['a']), limiter.retryAfter(['b']), limiter.retryAfter(['c'])], [0, 6, 6]);
  });
});
