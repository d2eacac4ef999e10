// The protocol half of next-edit suggestions, and the manifest wiring that keeps Tab free
// unless a proposal is shown.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { INLINE_EDIT_METHOD, PENDING_CONTEXT, inlineEditParams, pickEdit, supportsNextEdit } from '../../src/nextedit';

const URI = 'file:///w/area.py';
const range = (line: number, start: number, end: number) => ({
  start: { line, character: start }, end: { line, character: end },
});

describe('next edit', () => {
  test('the request has Copilot shape', () => {
    assert.equal(INLINE_EDIT_METHOD, 'textDocument/copilotInlineEdit');
    assert.deepEqual(inlineEditParams(URI, 4, 0, 14), { textDocument: { uri: URI, version: 4 }, position: { line: 0, character: 14 } });
  });

  test('asked only when the server advertises it under experimental', () => {
    assert.equal(supportsNextEdit({ experimental: { copilotInlineEdit: { predictors: ['propagation'] } } }), true);
    assert.equal(supportsNextEdit({ experimental: {} }), false);
    assert.equal(supportsNextEdit({}), false);
    assert.equal(supportsNextEdit(undefined), false);
  });

  test('the first edit for this document and version is shown; others are not', () => {
    const result = {
      edits: [
        { text: 'x', textDocument: { uri: 'file:///w/other.py', version: 4 }, range: range(0, 0, 1) },
        { text: 'total', textDocument: { uri: URI, version: 3 }, range: range(1, 0, 5) },
        { text: 'total', textDocument: { uri: URI, version: 4 }, range: range(1, 13, 18),
          command: { title: 'accepted', command: 'slm.acceptedNextEdit', arguments: [1] } },
        { text: 'total', textDocument: { uri: URI, version: 4 }, range: range(2, 11, 16) },
      ],
    };
    assert.deepEqual(pickEdit(result, URI, 4), {
      text: 'total', range: range(1, 13, 18), command: { title: 'accepted', command: 'slm.acceptedNextEdit', arguments: [1] },
    });
    assert.equal(pickEdit(result, URI, 5), undefined); // stale: typed on since
    assert.equal(pickEdit({ edits: [] }, URI, 4), undefined);
    assert.equal(pickEdit(null, URI, 4), undefined);
    assert.equal(pickEdit({ edits: [{ text: 1, textDocument: { uri: URI, version: 4 }, range: range(0, 0, 1) }] }, URI, 4), undefined);
  });

  test('Tab and Escape go to the next edit only while one is shown', () => {
    const root = path.resolve(__dirname, '..', '..', '..');
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const bindings = manifest.contributes.keybindings as Array<{ key: string; command: string; when: string }>;
    for (const key of ['tab', 'escape']) {
      const binding = bindings.find((b) => b.key === key && b.command.startsWith('slmLsp.nextEdit.'));
      assert.ok(binding, key);
      assert.ok(binding.when.split('&&').map((s) => s.trim()).includes(PENDING_CONTEXT), binding.when);
    }
    const tab = bindings.find((b) => b.key === 'tab');
    assert.ok(tab?.when.includes('!inlineSuggestionVisible') && tab.when.includes('!suggestWidgetVisible'), 'ghost text and the suggest widget keep Tab');
  });
});
