import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { b: 1, a: { y: [1, { q: true, p: null }], x: 'é"\n' }, c: [] };
    const b = { c: [], a: { x: 'é"\n', y: [1, { p: null, q: true }] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"x":"é\\"\\n","y":[1,{"p":null,"q":true}]},"b":1,"c":[]}');
  });

  it('has no whitespace and round-trips through JSON.parse', () => {
    const value = { z: 'a b', list: [1, 2.5, -3, 'x'], nested: { k: false } };
    const text = canonicalJson(value);
    assert.doesNotMatch(text.replace(/"[^"]*"/g, ''), /\s/);
    assert.deepEqual(JSON.parse(text), value);
  });

  it('sorts keys by code point, not locale', () => {
    assert.equal(canonicalJson({ b: 1, B: 2, a: 3, _: 4 }), '{"B":2,"_":4,"a":3,"b":1}');
  });

  it('omits undefined members and writes undefined array items as null, like JSON.stringify', () => {
    assert.equal(canonicalJson({ a: undefined, b: [undefined] }), '{"b":[null]}');
  });

  it('refuses values JSON cannot carry exactly', () => {
    for (const bad of [NaN, Infinity, 10n, () => 1, Symbol('s')]) assert.throws(() => canonicalJson({ v: bad }), TypeError);
  });

  it('distinguishes values that differ only in type', () => {
    assert.notEqual(canonicalJson({ v: 1 }), canonicalJson({ v: '1' }));
    assert.notEqual(canonicalJson({ v: null }), canonicalJson({ v: 'null' }));
  });
});
