import { Injectable, type Type } from '@nestjs/common';
import { AuthService } from '../auth.service.js';
import { normalizeEmail } from '../dto/email.transform.js';
import { RegisterDto } from '../dto/register.dto.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { AuthEventType } from '../events/auth-event.js';
import { AuthEvents } from '../events/auth-events.js';
import { ConfigurationError } from '../options/configuration-error.js';
import type { SessionRecord } from '../sessions/session-store.js';
import { type ClientInfo, SessionsService } from '../sessions/sessions.service.js';
import type { StoredUser } from '../users/user-store.js';
import { UserStore } from '../users/user-store.js';
import { AuthValidationPipe } from '../validation.pipe.js';
import { SetRolesDto } from './set-roles.dto.js';
import { decodeUserCursor, encodeUserCursor } from './user-cursor.js';

/** Who makes an administrative change: an administrator's user id, or none (the command line). */
export interface AdminActor {
  userId?: string;
  client?: ClientInfo;
}

/** A page of users in email order; `nextCursor` null on the last page. */
export interface UserPage {
  items: StoredUser[];
  nextCursor: string | null;
}

/** The UserStore methods the administration needs beyond the required ones. */
const ADMIN_STORE_METHODS = ['list', 'setRoles', 'setDisabled'] as const;
type AdminUserStore = UserStore & Required<Pick<UserStore, (typeof ADMIN_STORE_METHODS)[number]>>;

/** Which of them `store` (a UserStore, or its class's prototype) lacks. */
export function missingAdminStoreMethods(store: object): string[] {
  return ADMIN_STORE_METHODS.filter((method) => typeof (store as Record<string, unknown>)[method] !== 'function');
}

/**
 * Managing other users: list, roles, disable and enable, their sessions; and creating users (the
 * command line's way to make the first administrator). Every change is a security event naming the
 * administrator as `actor` (null from the command line).
 */
@Injectable()
export class AdminService {
  private readonly users: AdminUserStore;

  constructor(
    users: UserStore,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly events: AuthEvents,
    private readonly validation: AuthValidationPipe,
  ) {
    // At start-up, not as a 500 on the first request.
    const missing = missingAdminStoreMethods(users);
    if (missing.length) {
      throw new ConfigurationError(
        missing.map((method) => `the admin routes need UserStore.${method}(), which ${users.constructor.name} lacks: implement it, or leave routes.admin unset or false`),
      );
    }
    this.users = users as AdminUserStore;
  }

  /** `cursor`: the `nextCursor` of the previous page; validation_failed when it is not one. */
  async list(query: { emailPrefix?: string; limit: number; cursor?: string }): Promise<UserPage> {
    const afterEmail = query.cursor === undefined ? undefined : decodeUserCursor(query.cursor);
    if (query.cursor !== undefined && afterEmail === undefined) {
      throw new AuthError(AuthErrorCode.ValidationFailed, { details: ['cursor is not a cursor this list gave out'] });
    }
    // One more than asked: whether it comes tells whether there is a next page.
    const users = await this.users.list({ emailPrefix: query.emailPrefix, afterEmail, limit: query.limit + 1 });
    const items = users.slice(0, query.limit);
    return { items, nextCursor: users.length > query.limit ? encodeUserCursor(items[items.length - 1].email) : null };
  }

  async get(id: string): Promise<StoredUser> {
    return found(await this.users.findById(id));
  }

  async setRoles(id: string, roles: string[], by: AdminActor): Promise<StoredUser> {
    return this.changeRoles(await this.get(id), roles, by);
  }

  /**
   * Revokes every session of the user (its access tokens die on every instance, as at logout) and
   * marks it disabled, under the lock a login takes to start its session: no login slips through.
   */
  async disable(id: string, by: AdminActor): Promise<void> {
    const { id: userId } = await this.get(id);
    await this.sessions.endAllAndChange(userId, 'account_disabled', () => this.setDisabled(userId, true, by), { client: by.client, actor: by.userId });
  }

  async enable(id: string, by: AdminActor): Promise<void> {
    const { id: userId } = await this.get(id);
    await this.sessions.changeUser(userId, () => this.setDisabled(userId, false, by));
  }

  async listSessions(id: string): Promise<SessionRecord[]> {
    return this.sessions.listLive((await this.get(id)).id);
  }

  async endSessions(id: string, by: AdminActor): Promise<void> {
    await this.sessions.endAll((await this.get(id)).id, 'admin', undefined, by.client, by.userId);
  }

  /** session_not_found unless it is a live session. */
  async endSession(sessionId: string, by: AdminActor): Promise<void> {
    await this.sessions.endAsAdmin(sessionId, by.userId, by.client);
  }

  /**
   * Creates a user with the rules of registration (email_taken, validation_failed with the reasons),
   * then gives it `roles` when set.
   */
  async createUser(input: { email: string; password: string; displayName?: string; roles?: string[] }, by: AdminActor): Promise<StoredUser> {
    const { roles, ...registration } = input;
    const valid = await this.validated(RegisterDto, registration);
    const validRoles = roles === undefined ? undefined : (await this.validated(SetRolesDto, { roles })).roles;
    const user = await this.auth.register(valid);
    return validRoles ? this.changeRoles(user, validRoles, by) : user;
  }

  /** user_not_found when no user has this email (compared normalised). */
  async setRolesByEmail(email: string, roles: string[], by: AdminActor): Promise<StoredUser> {
    const valid = await this.validated(SetRolesDto, { roles });
    return this.changeRoles(found(await this.users.findByEmail(normalizeEmail(email))), valid.roles, by);
  }

  // Under the user's lock, read again and written, so that of two concurrent changes each event says
  // what the other left (`from`), and the last event written is the state that stays.
  private changeRoles(user: StoredUser, roles: string[], by: AdminActor): Promise<StoredUser> {
    return this.sessions.changeUser(user.id, async () => {
      const before = await this.get(user.id);
      const updated = found(await this.users.setRoles(user.id, roles));
      if (!sameRoles(before.roles, updated.roles)) this.record(AuthEventType.RolesChanged, updated, by, { from: before.roles, to: updated.roles });
      return updated;
    });
  }

  /** Runs under the user's lock (see changeRoles). */
  private async setDisabled(userId: string, disabled: boolean, by: AdminActor): Promise<void> {
    const before = await this.get(userId);
    const updated = found(await this.users.setDisabled(userId, disabled));
    if (Boolean(before.disabledAt) !== disabled) this.record(disabled ? AuthEventType.AccountDisabled : AuthEventType.AccountEnabled, updated, by);
  }

  private record(type: AuthEventType, user: StoredUser, by: AdminActor, detail: Record<string, readonly string[]> = {}): void {
    this.events.emit({ type, userId: user.id, ...by.client, detail: { ...detail, actor: by.userId ?? null } });
  }

  /** The checks the HTTP routes run on their bodies, for callers that come another way (the command line). */
  private async validated<T extends object>(dto: Type<T>, input: object): Promise<T> {
    return (await this.validation.transform(input, { type: 'body', metatype: dto })) as T;
  }
}

function found(user: StoredUser | undefined): StoredUser {
  if (!user) throw new AuthError(AuthErrorCode.UserNotFound);
  return user;
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}
