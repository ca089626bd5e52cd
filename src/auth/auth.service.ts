import { Injectable } from '@nestjs/common';
import { type StoredUser, UserStore } from '../users/user-store.js';
import { AuthErrorCode } from './errors/auth-error-code.js';
import { AuthError } from './errors/auth-error.js';
import { PasswordHasher } from './passwords/password-hasher.js';
import { type ClientInfo, type IssuedTokens, SessionsService } from './sessions/sessions.service.js';

/** Accounts and credentials: register, log in, change password. */
@Injectable()
export class AuthService {
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
    return this.sessions.start(user, client);
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
