import { decodeUserCursor, encodeUserCursor } from './user-cursor.js';

describe('user cursor', () => {
  it('round-trips an email, as base64url only', () => {
    for (const email of ['ada@example.com', 'zoë+tag@example.test', `${'a'.repeat(240)}@example.com`]) {
      const cursor = encodeUserCursor(email);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeUserCursor(cursor)).toBe(email);
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('after=ada').toString('base64url')],
    ['JSON but not an object', Buffer.from('"ada@example.com"').toString('base64url')],
    ['an array', Buffer.from('["ada@example.com"]').toString('base64url')],
    ['an object without after', Buffer.from('{"email":"ada@example.com"}').toString('base64url')],
    ['extra keys', Buffer.from('{"after":"a@b.c","x":1}').toString('base64url')],
    ['a non-string after', Buffer.from('{"after":42}').toString('base64url')],
    ['an empty after', Buffer.from('{"after":""}').toString('base64url')],
    ['an after longer than an email can be', encodeUserCursor('a'.repeat(255))],
    ['an after with U+0000', encodeUserCursor('a\u0000@b.c')],
  ])('refuses %s', (_label, cursor) => {
    expect(decodeUserCursor(cursor)).toBeUndefined();
  });
});
