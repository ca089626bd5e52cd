import { Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { AuthSettings, defaultPasswordHashing } from '../options/auth-settings.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { PasswordHasher } from './password-hasher.js';

// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane. `Algorithm` is an ambient const enum,
// which isolatedModules cannot read: 2 is Algorithm.Argon2id.
const ARGON2ID = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const ARGON2ID_HASH = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/**
 * argon2id through @node-rs/argon2, which runs on libuv's thread pool, off the event loop. At most
 * `passwordHashConcurrency` hashes and checks run at once (by default one core fewer than there are),
 * `passwordHashQueue` more wait; past that a hash or check is refused with 503 and `Retry-After: 1`.
 */
@Injectable()
export class Argon2PasswordHasher extends PasswordHasher implements OnModuleInit {
  // Checked against when the account does not exist, so that answer takes as long as a real one.
  private dummyHash: string;
  private readonly limit: ConcurrencyLimit;

  /** Without settings (constructed by hand), the module's defaults. */
  constructor(@Optional() settings?: AuthSettings) {
    super();
    const { concurrency, queue } = settings?.passwordHashing ?? defaultPasswordHashing();
    this.limit = new ConcurrencyLimit(concurrency, queue);
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash(randomBytes(32).toString('base64url'), ARGON2ID);
  }

  hash(password: string): Promise<string> {
    return this.limit.run(() => hash(password, ARGON2ID));
  }

  verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    // An unknown account waits in the same queue and does the same work as a known one.
    return this.limit.run(async () => {
      if (passwordHash === undefined) {
        await verify(this.dummyHash, password);
        return false;
      }
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  /** Anything but argon2id with at least today's memory and iterations. */
  needsRehash(passwordHash: string): boolean {
    const match = ARGON2ID_HASH.exec(passwordHash);
    return !match || Number(match[1]) < ARGON2ID.memoryCost || Number(match[2]) < ARGON2ID.timeCost;
  }
}
