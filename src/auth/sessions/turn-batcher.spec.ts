import { TurnBatcher } from './turn-batcher.js';

/** A batcher that doubles its inputs and records each batch it was given. */
function doubling(maxSize: number) {
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number, number>(maxSize, async (inputs) => {
    batches.push(inputs);
    return inputs.map((input) => input * 2);
  });
  return { batcher, batches };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatcher', () => {
  it('answers the calls of one turn with one batch, each call with its own output', async () => {
    const { batcher, batches } = doubling(10);
    const outputs = await Promise.all([batcher.run(1), batcher.run(2), batcher.run(3)]);
    expect(outputs).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('sends a call alone when nothing else came in its turn, and the next turn in a batch of its own', async () => {
    const { batcher, batches } = doubling(10);
    expect(await batcher.run(1)).toBe(2);
    const later = batcher.run(2);
    await nextTurn();
    const latest = batcher.run(3);
    expect([await later, await latest]).toEqual([4, 6]);
    expect(batches).toEqual([[1], [2], [3]]);
  });

  it('splits a turn into batches of at most maxSize, in order', async () => {
    const { batcher, batches } = doubling(2);
    const outputs = await Promise.all([1, 2, 3, 4, 5].map((input) => batcher.run(input)));
    expect(outputs).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails every call of a failing batch with its error, and only those', async () => {
    const failure = new Error('connection lost');
    const batcher = new TurnBatcher<number, number>(2, async (inputs) => {
      if (inputs.includes(1)) throw failure;
      return inputs;
    });
    const results = await Promise.allSettled([1, 2, 3].map((input) => batcher.run(input)));
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 3 },
    ]);
  });
});
