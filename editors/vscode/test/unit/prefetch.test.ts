import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ACCEPTED_COMMAND, Debouncer, PREFETCH_DELAY_MS, PREFETCH_METHOD, prefetchParams } from '../../src/prefetch';

/** A manual clock: timers run only when the test advances time. */
function fakeTimers() {
  let now = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  let next = 1;
  return {
    schedule: (run: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: now + ms, run });
      return id as unknown as ReturnType<typeof setTimeout>;
    },
    cancel: (id: ReturnType<typeof setTimeout>) => void timers.delete(id as unknown as number),
    advance: (ms: number) => {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(id);
          timer.run();
        }
      }
    },
  };
}

describe('prefetch', () => {
  test('the agreed protocol names and params', () => {
    assert.equal(PREFETCH_METHOD, 'slm/prefetch');
    assert.equal(ACCEPTED_COMMAND, 'slm.acceptedCompletion');
    assert.deepEqual(prefetchParams('file:///a.py', 3, 7), { textDocument: { uri: 'file:///a.py' }, position: { line: 3, character: 7 } });
    assert.ok(PREFETCH_DELAY_MS >= 200 && PREFETCH_DELAY_MS <= 500);
  });

  test('a moving cursor sends one notification, for where it rests, after the delay', () => {
    const clock = fakeTimers();
    const sent: number[] = [];
    const debouncer = new Debouncer<number>((value) => sent.push(value), 300, clock.schedule, clock.cancel);
    for (let column = 0; column < 5; column++) {
      debouncer.push(column);
      clock.advance(100);
    }
    assert.deepEqual(sent, []);
    clock.advance(200);
    assert.deepEqual(sent, [4]);
    clock.advance(1000);
    assert.deepEqual(sent, [4]);
  });

  test('clear drops the pending notification', () => {
    const clock = fakeTimers();
    const sent: number[] = [];
    const debouncer = new Debouncer<number>((value) => sent.push(value), 300, clock.schedule, clock.cancel);
    debouncer.push(1);
    debouncer.clear();
    clock.advance(1000);
    assert.deepEqual(sent, []);
  });
});
