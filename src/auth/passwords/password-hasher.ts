/**
 * Hashes and checks passwords: a port. Pass your implementation as the `passwordHasher` extra to
 * swap the algorithm. `verify` of `undefined` (no such user) must take as long as a real check, so
 * unknown accounts are not revealed by timing.
 */
export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  abstract verify(hash: string | undefined, password: string): Promise<boolean>;
  /** True when a hash is of an older scheme or weaker parameters: it is replaced at the next successful login. */
  abstract needsRehash(hash: string): boolean;
}
