import { refreshDueAt } from './refresh-timer.js';

describe('refreshDueAt', () => {
  it('comes before the deadline by 15 % of the time left and a jitter of up to 10 %, within bounds', () => {
    expect(refreshDueAt(10_000, 0, 0)).toBe(8_500);
    expect(refreshDueAt(10_000, 0, 1)).toBe(7_500);
    expect(refreshDueAt(900_000, 0, 0)).toBe(840_000);
    expect(refreshDueAt(900_000, 0, 1)).toBe(810_000);
    expect(refreshDueAt(1_000, 0, 0)).toBe(750);
  });
});
