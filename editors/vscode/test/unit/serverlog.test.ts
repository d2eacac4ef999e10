import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ServerLogReader, StderrTail } from '../../src/serverlog';

describe('server log levels', () => {
  test('each Python logging level maps to its output-channel level, info is not error', () => {
    const reader = new ServerLogReader();
    assert.deepEqual(reader.read('INFO slm_lsp.lsp.service: model loaded in 812 ms'), {
      level: 'info',
      text: 'slm_lsp.lsp.service: model loaded in 812 ms',
    });
    assert.equal(reader.read('DEBUG slm_lsp.engine: evaluated 11 tokens').level, 'debug');
    assert.equal(reader.read('WARNING slm_lsp.config: unknown option nThread ignored').level, 'warn');
    assert.equal(reader.read('ERROR slm_lsp.lsp.server: request failed').level, 'error');
    assert.equal(reader.read('CRITICAL slm_lsp: cannot continue').level, 'error');
  });

  test('lines without a level keep the level of the line before (a traceback stays an error)', () => {
    const reader = new ServerLogReader();
    assert.equal(reader.read('llama_model_loader: loaded meta data').level, 'info');
    reader.read('ERROR slm_lsp.lsp.server: request failed');
    assert.deepEqual(reader.read('Traceback (most recent call last):'), { level: 'error', text: 'Traceback (most recent call last):' });
    assert.equal(reader.read('  File "x.py", line 3').level, 'error');
    assert.equal(reader.read('INFO slm_lsp: serving').level, 'info');
    assert.equal(reader.read('INFORMATION is not a level word').level, 'info');
  });

  test('the stderr tail keeps the last lines only', () => {
    const tail = new StderrTail(2);
    for (const line of ['one', 'two', 'three']) {
      tail.push(line);
    }
    assert.equal(tail.text(), 'two\nthree');
    tail.clear();
    assert.equal(tail.text(), '');
  });
});
