import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ErrorCodes,
  commandResultText,
  describeWhyExcluded,
  describeWhyExcludedError,
  isCancellation,
} from '../../src/messages';

describe('why excluded', () => {
  test('an excluded file names its rule and the explanation', () => {
    const shown = describeWhyExcluded('secrets/.env', {
      excluded: true,
      rule: '.env*',
      explanation: 'Matched by .slmignore line 3.',
    });
    assert.equal(shown.level, 'warning');
    assert.match(shown.message, /secrets\/\.env is excluded by rule "\.env\*"/);
    assert.match(shown.message, /Matched by \.slmignore line 3\./);
  });

  test('an included file says completions are on', () => {
    const shown = describeWhyExcluded('src/app.py', { excluded: false, rule: null, explanation: 'No rule matches.' });
    assert.equal(shown.level, 'info');
    assert.match(shown.message, /src\/app\.py is not excluded; completions are on\. No rule matches\./);
  });

  test('a malformed answer is an error, not a guess', () => {
    for (const bad of [null, 'yes', { excluded: 'no', explanation: '' }, { excluded: true, rule: 3, explanation: '' }]) {
      assert.equal(describeWhyExcluded('a.py', bad).level, 'error', JSON.stringify(bad));
    }
  });

  test('a server without the request gets an upgrade hint', () => {
    const shown = describeWhyExcludedError({ code: ErrorCodes.MethodNotFound, message: 'Method Not Found: slm/whyExcluded' });
    assert.equal(shown.level, 'warning');
    assert.match(shown.message, /does not answer slm\/whyExcluded/);
    const other = describeWhyExcludedError(new Error('document is not open'));
    assert.equal(other.level, 'error');
    assert.match(other.message, /document is not open/);
  });
});

describe('errors and command results', () => {
  test('cancellation codes are recognised', () => {
    assert.equal(isCancellation({ code: -32800 }), true);
    assert.equal(isCancellation({ code: -32802 }), true);
    assert.equal(isCancellation({ code: -32801 }), true);
    assert.equal(isCancellation({ code: -32603 }), false);
    assert.equal(isCancellation(new Error('x')), false);
    assert.equal(isCancellation(undefined), false);
  });

  test('command results worth showing', () => {
    assert.equal(commandResultText('This adds two numbers.'), 'This adds two numbers.');
    assert.equal(commandResultText({ markdown: '**sum**' }), '**sum**');
    assert.equal(commandResultText({ explanation: 'because' }), 'because');
    assert.equal(commandResultText('   '), undefined);
    assert.equal(commandResultText(null), undefined);
    assert.equal(commandResultText({ applied: true }), undefined);
  });
});
