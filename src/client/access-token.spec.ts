import { readClaims, ServerClock } from './access-token.js';

const jwt = (claims: unknown) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('readClaims', () => {
  it('reads the claims the client uses, and nothing from a non-JWT', () => {
    expect(readClaims(jwt({ sub: 'u', sid: 's', roles: ['ü'], iat: 1, exp: 2 }))).toEqual({ sub: 'u', sid: 's', roles: ['ü'], iat: 1, exp: 2 });
    expect(readClaims('opaque')).toBeUndefined();
    expect(readClaims(jwt({ sub: 'u', iat: 1, exp: 2 }))).toBeUndefined();
    expect(readClaims('a.%%%.c')).toBeUndefined();
  });
});

describe('ServerClock', () => {
  it('never places a deadline after the real one, whatever the sub-second phase or the local clock offset', () => {
    for (const offset of [-90_000, 0, 3_600_000]) {
      const clock = new ServerClock();
      for (const serverIssueMs of [10_000_000_999, 10_000_002_000, 10_000_004_500]) {
        const sentAt = serverIssueMs - offset - 20;
        const iat = Math.floor(serverIssueMs / 1000);
        clock.observe(iat, sentAt);
        const realLocalDeadline = (iat + 2) * 1000 - offset;
        expect(clock.localDeadline(iat + 2)).toBeLessThanOrEqual(realLocalDeadline);
      }
      // Three phases seen: the estimate is within the smallest phase gap (0.001 s here) plus latency.
      expect((10_000_006 + 2) * 1000 - offset - clock.localDeadline(10_000_006 + 2)).toBeLessThan(100);
    }
  });
});
