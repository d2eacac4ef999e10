import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { applyQuestion, isProposal, proposedText, withInstruction } from '../../src/editproposal';

describe('edit selection proposals', () => {
  test('the instruction is added to the code action argument; a cancelled input sends nothing', () => {
    const args = [{ uri: 'file:///a.py', range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, version: 3 }];
    assert.deepEqual(withInstruction(args, '  add type hints '), [{ ...args[0], instruction: 'add type hints' }]);
    assert.equal(withInstruction(args, undefined), undefined);
    assert.equal(withInstruction(args, '   '), undefined);
    assert.equal(withInstruction([], 'x'), undefined);
  });

  test('a proposal is recognised, an error is not', () => {
    const range = { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } };
    assert.ok(isProposal({ id: 'abc', uri: 'file:///a.py', range, newText: 'x\n' }));
    assert.ok(!isProposal({ uri: 'file:///a.py', error: 'the file changed; ask again' }));
    assert.ok(!isProposal(null));
  });

  test('the proposed text replaces the range (UTF-16 columns)', () => {
    const original = 'def f(x):\n    return x\n';
    const range = { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } };
    assert.equal(proposedText(original, range, '    if not x:\n        return 0\n'),
      'def f(x):\n    if not x:\n        return 0\n    return x\n');
    const emoji = 's = "😀"; t = 1\n';
    assert.equal(proposedText(emoji, { start: { line: 0, character: 10 }, end: { line: 0, character: 15 } }, 't = 2'), 's = "😀"; t = 2\n');
  });

  test('a rewrite that does not parse says so before it is applied', () => {
    assert.match(applyQuestion(false), /does not parse/);
    assert.doesNotMatch(applyQuestion(true), /parse/);
    assert.doesNotMatch(applyQuestion(null), /parse/);
  });
});
