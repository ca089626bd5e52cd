import { AuditQueue } from './audit-queue.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);

describe('AuditQueue', () => {
  it('hands items out oldest first, in batches', () => {
    const queue = new AuditQueue<number>(10);
    for (const item of range(0, 7)) queue.push(item);
    expect(queue.take(3)).toEqual([0, 1, 2]);
    expect(queue.take(10)).toEqual([3, 4, 5, 6]);
    expect(queue.take(10)).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it('drops the oldest when full, and counts them', () => {
    const queue = new AuditQueue<number>(5);
    for (const item of range(0, 8)) queue.push(item);
    expect(queue.size).toBe(5);
    expect(queue.dropped).toBe(3);
    expect(queue.takeDropped()).toBe(3);
    expect(queue.takeDropped()).toBe(0);
    expect(queue.take(10)).toEqual([3, 4, 5, 6, 7]);
  });

  it('puts a batch that failed back in front, dropping the oldest of all when it no longer fits', () => {
    const queue = new AuditQueue<number>(5);
    for (const item of range(0, 4)) queue.push(item);
    const batch = queue.take(3);
    queue.push(4);
    queue.putBack(batch);
    expect(queue.dropped).toBe(0);
    expect(queue.take(2)).toEqual([0, 1]);
    const failed = [0, 1];
    // [2, 3, 4] and three more: 2 is dropped on the way; putting [0, 1] back drops them again.
    for (const item of range(5, 8)) queue.push(item);
    queue.putBack(failed);
    expect(queue.takeDropped()).toBe(3);
    expect(queue.take(10)).toEqual([3, 4, 5, 6, 7]);
  });

  it('stays in order across its internal compaction', () => {
    const queue = new AuditQueue<number>(100_000);
    const out: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (const item of range(round * 3000, (round + 1) * 3000)) queue.push(item);
      out.push(...queue.take(2500));
    }
    out.push(...queue.take(100_000));
    expect(out).toEqual(range(0, 30_000));
  });
});
