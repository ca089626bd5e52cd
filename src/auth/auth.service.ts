import { Injectable, Logger } from '@nestjs/common';
import { AuthErrorCode } from './errors/auth-error-code.js';
import { AuthError } from './errors/auth-error.js';
import { AuthEventType } from './events/auth-event.js';
import { AuthEvents } from './events/auth-events.js';
import { AuthOutcomes, LoginOutcome } from './events/auth-outcomes.js';
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
    private readonly events: AuthEvents,
    private readonly outcomes: AuthOutcomes,
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
    if (!user || !valid) throw this.loginFailed(user, client, user ? 'wrong_password' : 'unknown_email');
    // Only after the password proved right, so the answer says nothing about accounts to a guesser.
    if (user.disabledAt) throw this.loginFailed(user, client, 'account_disabled', AuthErrorCode.AccountDisabled);
    const verifiedHash = this.passwords.needsRehash(user.passwordHash) ? await this.rehash(user, password) : user.passwordHash;
    const tokens = await this.sessions.start(user, client, verifiedHash);
    if (tokens === 'account_disabled') throw this.loginFailed(user, client, tokens, AuthErrorCode.AccountDisabled);
    if (tokens === 'password_changed') throw this.loginFailed(user, client, tokens);
    this.events.emit({ type: AuthEventType.LoginSucceeded, userId: user.id, sessionId: tokens.sessionId, ...client });
    this.outcomes.login(LoginOutcome.Succeeded);
    return tokens;
  }

  /** The refusal of a login, recorded as an event (never with the email it typed: only a known account's id). */
  private loginFailed(user: StoredUser | undefined, client: ClientInfo, reason: string, code: AuthErrorCode = AuthErrorCode.InvalidCredentials): AuthError {
    this.events.emit({ type: AuthEventType.LoginFailed, userId: user?.id, ...client, detail: { reason } });
    this.outcomes.login(code === AuthErrorCode.AccountDisabled ? LoginOutcome.Disabled : LoginOutcome.Failed);
    return new AuthError(code, { reason });
  }

  /** Upgrades an older hash and answers the hash now stored; a failure costs the upgrade, never the login. */
  private async rehash(user: StoredUser, password: string): Promise<string> {
    try {
      const upgraded = await this.passwords.hash(password);
      return (await this.users.replacePasswordHash(user.id, user.passwordHash, upgraded)) ? upgraded : user.passwordHash;
    } catch (error) {
      this.logger.warn(`password rehash of user ${user.id} failed: ${(error as Error).message}`);
      return user.passwordHash;
    }
  }

  /**
   * Every other session is revoked and the new hash stored while no login of the user can start a
   * session, so no login that checked the old password leaves a live session behind.
   */
  async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string, client?: ClientInfo): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || !(await this.passwords.verify(user.passwordHash, currentPassword))) {
      throw new AuthError(AuthErrorCode.InvalidCredentials, { reason: 'wrong current password' });
    }
    const passwordHash = await this.passwords.hash(newPassword);
    await this.sessions.endAllAndChange(userId, 'password_change', () => this.users.updatePasswordHash(userId, passwordHash), {
      keepSessionId: sessionId,
      client,
    });
    this.events.emit({ type: AuthEventType.PasswordChanged, userId, sessionId, ...client });
  }
}
