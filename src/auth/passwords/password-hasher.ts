/**
 * Hashes and checks passwords. A port: bind another implementation to swap the algorithm.
 * `verify` of `undefined` must take as long as a real check, so unknown accounts are not revealed by timing.
 */
export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  abstract verify(hash: string | undefined, password: string): Promise<boolean>;
}
