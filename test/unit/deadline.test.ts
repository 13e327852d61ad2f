// A request's one deadline: it rejects the caller and aborts the request at the same moment.
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/etcd/deadline.js';
import { monotonicMs } from '../../src/etcd/timers.js';

const late = () => new Error('late');

describe('Deadline', () => {
  it('rejects with its error and aborts its signal when it passes', async () => {
    const deadline = Deadline.in(50, late);
    const started = monotonicMs();
    const never = new Promise(() => undefined);
    await expect(deadline.race(never)).rejects.toThrow('late');
    expect(monotonicMs() - started).toBeGreaterThanOrEqual(45);
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as Error).message).toBe('late');
  });

  it('lets a request that answers in time through, and never fires once disposed', async () => {
    const deadline = Deadline.in(50, late);
    await expect(deadline.race(Promise.resolve(7))).resolves.toBe(7);
    deadline.dispose();
    await new Promise((r) => setTimeout(r, 100));
    expect(deadline.signal.aborted).toBe(false);
  });

  it('tells etcd at least 1 ms, even once passed', () => {
    expect(new Deadline(monotonicMs() - 10, late).msLeft).toBe(1);
    const d = Deadline.in(2000, late);
    expect(d.msLeft).toBeGreaterThan(1900);
    d.dispose();
  });
});
