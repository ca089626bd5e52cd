import { trustedOriginTest } from './trusted-origins.js';

describe('trustedOriginTest', () => {
  const trusted = trustedOriginTest('https://api.example.com/v1', ['https://files.example.com/any/path']);

  it.each(['https://api.example.com/users/me', 'https://API.example.com:443/x', 'https://files.example.com/other'])('trusts %s', (url) => {
    expect(trusted(url)).toBe(true);
  });

  it.each([
    'https://api.example.com.evil.test/x',
    'https://api.example.com@evil.test/x',
    'https://evil.test/https://api.example.com',
    'http://api.example.com/x',
    'https://api.example.com:8443/x',
    'https://sub.api.example.com/x',
    'data:text/plain,https://api.example.com',
    'not a url',
  ])('does not trust %s', (url) => {
    expect(trusted(url)).toBe(false);
  });

  it('refuses to trust an origin-less URL', () => {
    expect(() => trustedOriginTest('https://api.example.com', ['file:///etc/passwd'])).toThrow(TypeError);
  });
});
