import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { StatusModel, formatMs } from '../../src/status';

const TOKEN = 'slm-lsp-load-1a2b3c4d';

describe('status-bar item', () => {
  test('starting, then load progress with percentages, then ready', () => {
    const model = new StatusModel();
    assert.match(model.render().text, /loading~spin\) slm$/);
    assert.match(model.render().tooltip, /starting the server/);

    assert.equal(model.progress(TOKEN, { kind: 'begin', title: 'slm-lsp: loading model', percentage: 0 }), true);
    assert.equal(model.render().text, '$(loading~spin) slm 0%');
    model.progress(TOKEN, { kind: 'report', message: 'loading gemma.gguf', percentage: 50 });
    const halfway = model.render();
    assert.equal(halfway.text, '$(loading~spin) slm 50%');
    assert.match(halfway.tooltip, /loading the model \(loading gemma\.gguf\)/);
    assert.equal(model.settled, false);

    model.progress(TOKEN, { kind: 'end', message: 'model ready' });
    model.status({ state: 'ready', error: null, model: 'gemma-3-270m', family: 'none', modelOrigin: 'embedded', last: {} });
    const ready = model.render();
    assert.equal(ready.text, '$(sparkle) slm');
    assert.equal(ready.background, undefined);
    assert.match(ready.tooltip, /Model: gemma-3-270m \(embedded\)/);
    assert.equal(model.settled, true);
  });

  test('the last completion latency comes from slm/status timings', () => {
    const model = new StatusModel();
    model.status({
      state: 'ready',
      model: 'qwen2.5-coder-0.5b',
      family: 'qwen',
      modelOrigin: 'settings',
      last: { stopReason: 'stop', prompt_ms: 120.4, generation_ms: 191.2, generated_tokens: 9 },
    });
    model.roundTripMs = 340;
    const shown = model.render();
    assert.equal(shown.text, '$(sparkle) slm 312 ms');
    assert.match(shown.tooltip, /Model: qwen2\.5-coder-0\.5b \(qwen FIM, settings\)/);
    assert.match(shown.tooltip, /Last completion: 312 ms \(prompt 120 ms, generation 191 ms, 9 tokens, stopped: stop\)/);
    assert.match(shown.tooltip, /round trip in the editor: 340 ms/);
    // An empty `last` (after a status query with no new generation) keeps the previous one.
    model.status({ state: 'ready', last: {} });
    assert.equal(model.render().text, '$(sparkle) slm 312 ms');
  });

  test('the confidence gate: the last score, whether it was hidden, and how many were', () => {
    const model = new StatusModel();
    model.status({ state: 'ready', last: {}, gating: { minConfidence: 0.3, lastConfidence: null, lastGated: false, gated: 0 } });
    assert.match(model.render().tooltip, /Confidence: suggestions below 0\.30 are hidden, 0 hidden so far/);
    model.status({ state: 'ready', last: {}, gating: { minConfidence: 0.3, lastConfidence: 0.1234, lastGated: true, gated: 2 } });
    assert.match(model.render().tooltip, /Confidence: last 0\.12 \(hidden; hidden below 0\.30\), 2 hidden so far/);
    model.status({ state: 'ready', last: {}, gating: { minConfidence: 0.3, lastConfidence: 0.91, lastGated: false, gated: 2 } });
    assert.match(model.render().tooltip, /Confidence: last 0\.91 \(shown; hidden below 0\.30\), 2 hidden so far/);
    // An older server without gating: no line.
    const old = new StatusModel();
    old.status({ state: 'ready', last: {} });
    assert.doesNotMatch(old.render().tooltip, /Confidence/);
  });

  test('a model that failed to load shows the error on an error background', () => {
    const model = new StatusModel();
    model.status({ state: 'failed', error: '/m.gguf is not a GGUF file', model: null });
    const shown = model.render();
    assert.equal(shown.text, '$(error) slm');
    assert.equal(shown.background, 'error');
    assert.match(shown.tooltip, /failed to load: \/m\.gguf is not a GGUF file/);
  });

  test('stopped and start failures', () => {
    const model = new StatusModel();
    model.stopped();
    assert.equal(model.render().background, 'warning');
    assert.match(model.render().tooltip, /not running/);
    model.startFailed('could not start "slm-lsp serve": slm-lsp was not found.');
    assert.equal(model.render().background, 'error');
    assert.match(model.render().tooltip, /was not found/);
    // A restart clears the old error.
    model.starting();
    assert.equal(model.render().background, undefined);
    assert.equal(model.error, undefined);
  });

  test('other progress tokens (not model loading) are ignored', () => {
    const model = new StatusModel();
    assert.equal(model.progress('indexing-7', { kind: 'begin', title: 'Indexing workspace', percentage: 10 }), false);
    assert.equal(model.progress('indexing-7', { kind: 'report', percentage: 90 }), false);
    assert.equal(model.progress(TOKEN, { kind: 'weird' }), false);
    assert.equal(model.progress(TOKEN, null), false);
    assert.equal(model.render().text, '$(loading~spin) slm');
    // A begin whose title says it loads is tracked whatever the token looks like.
    assert.equal(model.progress(7, { kind: 'begin', title: 'Loading model', percentage: 30 }), true);
    assert.equal(model.progress(7, { kind: 'report', percentage: 250 }), true);
    assert.equal(model.render().text, '$(loading~spin) slm 100%');
  });

  test('a language with completions off is shown, but never hides a server problem', () => {
    const model = new StatusModel();
    model.status({ state: 'ready' });
    model.language = 'markdown';
    model.languageEnabled = false;
    assert.equal(model.render().text, '$(circle-slash) slm');
    assert.match(model.render().tooltip, /disabled for markdown \(setting slmLsp\.enable\)/);
    model.status({ state: 'failed', error: 'boom' });
    assert.equal(model.render().text, '$(error) slm');
  });

  test('unknown status answers change nothing', () => {
    const model = new StatusModel();
    model.status({ state: 'ready' });
    model.status({ state: 'exploded' });
    model.status('ready');
    assert.equal(model.phase, 'ready');
  });

  test('durations', () => {
    assert.equal(formatMs(0.4), '0 ms');
    assert.equal(formatMs(999.4), '999 ms');
    assert.equal(formatMs(1234), '1.2 s');
    assert.equal(formatMs(65_000), '65 s');
  });
});
