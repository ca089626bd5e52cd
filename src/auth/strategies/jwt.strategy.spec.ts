import fc from 'fast-check';
import { ExtractJwt } from 'passport-jwt';
import { bearerTokenOf } from './jwt.strategy.js';

// The guard's cache of verified tokens and the strategy must read the same token out of a request, and
// passport-jwt's reading is what hosts have always had: bearerTokenOf is only a faster way to it.
const passportReading = ExtractJwt.fromAuthHeaderAsBearerToken();
const withHeader = (authorization: string | undefined) => ({ headers: authorization === undefined ? {} : { authorization } });

describe('bearerTokenOf', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer  abc', 'abc'],
    ['Bearer\tabc', 'abc'],
    ['Bearer abc def', 'abc'],
    ['  Bearer abc', 'abc'],
    ['Bearer', null],
    ['Bearer ', null],
    ['Basic abc', null],
    ['Bearerabc', null],
    ['Bearer\u00a0abc', 'abc'],
    ['Bearer abc\u00a0def', 'abc'],
    ['', null],
    [undefined, null],
  ])('reads %j as %j, as passport-jwt does', (header, token) => {
    expect(bearerTokenOf(withHeader(header))).toBe(token);
    expect(passportReading(withHeader(header))).toBe(token);
  });

  it('agrees with passport-jwt on any header', () => {
    const piece = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr', 'Basic', 'Bearer ', ' ', '  ', '\t', '\u00a0', '\u2028', 'a', 'x.y.z', '.', '=');
    const header = fc.oneof(fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')), fc.string(), fc.string().map((rest) => `Bearer ${rest}`));
    fc.assert(
      fc.property(header, (authorization) => {
        expect(bearerTokenOf(withHeader(authorization))).toBe(passportReading(withHeader(authorization)));
      }),
      { numRuns: 5000 },
    );
  });
});
