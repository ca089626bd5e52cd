import { Injectable, Logger } from '@nestjs/common';
import { AuthErrorCode } from './errors/auth-error-code.js';
import { AuthError } from './errors/auth-error.js';
import { PasswordHasher } from './passwords/password-hasher.js';
import { type ClientInfo, type IssuedTokens, SessionsService } from './sessions/sessions.service.js';
import { type StoredUser, UserStore } from './users/user-store.js';

/** Accounts and credentials: register, log in, change password. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UserStore,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionsService,
  ) {}

  async register(input: { email: string; password: string; displayName?: string }): Promise<StoredUser> {
    // Cheap check first so a taken email costs no hashing; the unique index settles races.
    if (await this.users.findByEmail(input.email)) throw new AuthError(AuthErrorCode.EmailTaken);
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.users.create({ email: input.email, passwordHash, displayName: input.displayName ?? null });
    if (!user) throw new AuthError(AuthErrorCode.EmailTaken);
    return user;
  }

  async login(email: string, password: string, client: ClientInfo): Promise<IssuedTokens> {
    const user = await this.users.findByEmail(email);
    // Unknown emails are checked against a dummy hash: same answer, same time.
    const valid = await this.passwords.verify(user?.passwordHash, password);
    if (!user || !valid) throw new AuthError(AuthErrorCode.InvalidCredentials, { reason: user ? 'wrong password' : 'unknown email' });
    // Only after the password proved right, so the answer says nothing about accounts to a guesser.
    if (user.disabledAt) throw new AuthError(AuthErrorCode.AccountDisabled);
    if (this.passwords.needsRehash(user.passwordHash)) await this.rehash(user, password);
    return this.sessions.start(user, client);
  }

  /** Upgrades an older hash; a failure costs the upgrade, never the login. */
  private async rehash(user: StoredUser, password: string): Promise<void> {
    try {
      await this.users.replacePasswordHash(user.id, user.passwordHash, await this.passwords.hash(password));
    } catch (error) {
      this.logger.warn(`password rehash of user ${user.id} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Other sessions are revoked before the new hash is stored: if the second step fails, the worst left
   * behind is signed-out sessions, never a new password with an attacker's session still alive.
   */
  async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || !(await this.passwords.verify(user.passwordHash, currentPassword))) {
      throw new AuthError(AuthErrorCode.InvalidCredentials, { reason: 'wrong current password' });
    }
    const passwordHash = await this.passwords.hash(newPassword);
    await this.sessions.endAll(userId, 'password_change', sessionId);
    await this.users.updatePasswordHash(userId, passwordHash);
  }
}
