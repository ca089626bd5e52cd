import { hash } from '@node-rs/argon2';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { resolveAuthSettings } from '../options/auth-settings.js';
import { Argon2PasswordHasher } from './argon2-password-hasher.js';
import { PasswordHasher } from './password-hasher.js';

// `Algorithm` is an ambient const enum, which isolatedModules cannot read.
const ARGON2I = 1;
const ARGON2ID = 2;
const PASSWORD = 'correct horse battery staple';
const BCRYPT = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';

describe('Argon2PasswordHasher', () => {
  const hasher = new Argon2PasswordHasher();
  let own: string;

  beforeAll(async () => {
    // Builds the dummy hash that unknown accounts are checked against.
    await hasher.onModuleInit();
    own = await hasher.hash(PASSWORD);
  });

  it('is a PasswordHasher', () => {
    expect(hasher).toBeInstanceOf(PasswordHasher);
  });

  it('hashes to argon2id with OWASP parameters and a fresh salt each time', async () => {
    expect(own).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(own).not.toContain(PASSWORD);
    expect(await hasher.hash(PASSWORD)).not.toBe(own);
  });

  it('verifies the password it hashed', async () => {
    expect(await hasher.verify(own, PASSWORD)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    expect(await hasher.verify(own, 'correct horse battery stapler')).toBe(false);
    expect(await hasher.verify(own, '')).toBe(false);
    expect(await hasher.verify(own, PASSWORD.toUpperCase())).toBe(false);
  });

  it('answers false for an unknown account (no hash), checked against a dummy hash of the same parameters', async () => {
    expect(await hasher.verify(undefined, PASSWORD)).toBe(false);
    // The same work as a real check, shown without timing it: the dummy is an argon2id hash of today's parameters.
    const dummy = (hasher as unknown as { dummyHash: string }).dummyHash;
    expect(dummy).toMatch(/^\$argon2id\$/);
    expect(hasher.needsRehash(dummy)).toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['plain text', 'not-a-hash'],
    ['a truncated argon2id hash', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['an argon2id hash with a garbage salt and digest', '$argon2id$v=19$m=19456,t=2,p=1$!!!$???'],
    ['absurd parameters', '$argon2id$v=19$m=99999999999,t=0,p=0$c2FsdHNhbHQ$aGFzaA'],
    ['a bcrypt hash', BCRYPT],
  ])('answers false, without throwing, for %s', async (_name, garbage) => {
    await expect(hasher.verify(garbage, PASSWORD)).resolves.toBe(false);
  });

  describe('needsRehash', () => {
    it('is false for its own hashes', async () => {
      expect(hasher.needsRehash(own)).toBe(false);
      expect(hasher.needsRehash(await hasher.hash('another password'))).toBe(false);
    });

    it('is false for argon2id with stronger parameters', async () => {
      expect(hasher.needsRehash(await hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 3 }))).toBe(false);
    });

    it('is true for argon2id with weaker parameters, whose password still verifies so login can upgrade it', async () => {
      const weak = await hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 4096, timeCost: 1 });
      expect(weak).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,/);
      expect(hasher.needsRehash(weak)).toBe(true);
      expect(await hasher.verify(weak, PASSWORD)).toBe(true);
      expect(hasher.needsRehash(await hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 1 }))).toBe(true);
      expect(hasher.needsRehash(await hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 8192, timeCost: 2 }))).toBe(true);
    });

    it('is true for another argon2 variant', async () => {
      expect(hasher.needsRehash(await hash(PASSWORD, { algorithm: ARGON2I, memoryCost: 19456, timeCost: 2 }))).toBe(true);
    });

    it('is true for a bcrypt hash and for anything unrecognised', () => {
      expect(hasher.needsRehash(BCRYPT)).toBe(true);
      expect(hasher.needsRehash('')).toBe(true);
      expect(hasher.needsRehash('not-a-hash')).toBe(true);
    });
  });

  describe('bounded concurrency', () => {
    const settings = (passwordHashConcurrency: number, passwordHashQueue: number) =>
      resolveAuthSettings({ refreshTokenSecret: 'r'.repeat(32), jwtAlgorithm: 'HS256', jwtSecret: 's'.repeat(32), passwordHashConcurrency, passwordHashQueue });

    it('runs at most passwordHashConcurrency hashes and checks at once, queues passwordHashQueue, refuses the rest with 503', async () => {
      const limited = new Argon2PasswordHasher(settings(1, 1));
      await limited.onModuleInit();
      const outcomes = await Promise.allSettled([
        limited.verify(own, PASSWORD),
        limited.verify(undefined, PASSWORD), // an unknown account waits in the same queue
        limited.hash(PASSWORD),
        limited.verify(undefined, PASSWORD),
      ]);
      expect(outcomes.slice(0, 2)).toEqual([
        { status: 'fulfilled', value: true },
        { status: 'fulfilled', value: false },
      ]);
      for (const outcome of outcomes.slice(2)) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: { code: AuthErrorCode.ServiceUnavailable, options: { retryAfter: 1 } } });
      }
      // Once the burst is over, it hashes again.
      expect(await limited.verify(own, PASSWORD)).toBe(true);
    });
  });
});
