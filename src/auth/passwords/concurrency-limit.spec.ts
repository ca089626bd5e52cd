import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** A task the test finishes by hand, and whether it has started. */
function gate<T>(value: T) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const task = { started: false, open, run: async () => ((task.started = true), await opened, value) };
  return task;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most `concurrency` tasks at once, queues `queue` more, refuses the rest at once with 503 and Retry-After', async () => {
    const limit = new ConcurrencyLimit(2, 1);
    const tasks = [gate(1), gate(2), gate(3), gate(4)];
    const results = tasks.map((task) => limit.run(task.run));
    await settle();
    expect(tasks.map((task) => task.started)).toEqual([true, true, false, false]);
    expect(limit.load).toEqual({ running: 2, waiting: 1 });

    const refused = await results[3].catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe(AuthErrorCode.ServiceUnavailable);
    expect((refused as AuthError).options.retryAfter).toBe(1);

    tasks[0].open();
    expect(await results[0]).toBe(1);
    await settle();
    expect(tasks[2].started).toBe(true); // the waiter took the freed slot
    expect(limit.load).toEqual({ running: 2, waiting: 0 });
    tasks[1].open();
    tasks[2].open();
    expect(await Promise.all(results.slice(0, 3))).toEqual([1, 2, 3]);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('serves waiters first come, first served, and a newcomer never overtakes one', async () => {
    const limit = new ConcurrencyLimit(1, 3);
    const order: number[] = [];
    const first = gate(0);
    const running = limit.run(first.run);
    const queued = [1, 2, 3].map((id) => limit.run(async () => void order.push(id)));
    await settle();
    first.open();
    await running;
    // Arrives while the slot is being handed over: it must wait behind the three.
    const late = limit.run(async () => void order.push(4));
    await Promise.all([...queued, late]);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('frees the slot when a task fails', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
    expect(await limit.run(async () => 'next')).toBe('next');
  });

  it('with a queue of 0 refuses whatever finds every slot taken', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    const busy = gate('busy');
    const running = limit.run(busy.run);
    await expect(limit.run(async () => 'second')).rejects.toMatchObject({ code: AuthErrorCode.ServiceUnavailable });
    busy.open();
    expect(await running).toBe('busy');
  });
});
