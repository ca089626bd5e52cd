/** A user as a store holds it. `id` is opaque to the package: a uuid, an integer as text, anything. */
export interface StoredUser {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string | null;
  roles: string[];
  createdAt: Date;
  /** Set when an administrator disabled the account. */
  disabledAt: Date | null;
}

export interface NewUser {
  /** Already trimmed and lower-cased. */
  email: string;
  passwordHash: string;
  displayName: string | null;
}

/** A page of users, ordered by email. */
export interface UserListQuery {
  /** Only emails starting with this (already normalised: NFC, trimmed, lower-cased). */
  emailPrefix?: string;
  /** Only emails after this one (the last email of the previous page). */
  afterEmail?: string;
  limit: number;
}

/**
 * Where users live: the port the module depends on. Pass your implementation as the `userStore`
 * extra of `AuthModule.forRoot(Async)` to use the module with your own users table or directory.
 */
export abstract class UserStore {
  /** `email` is trimmed and lower-cased. */
  abstract findByEmail(email: string): Promise<StoredUser | undefined>;
  abstract findById(id: string): Promise<StoredUser | undefined>;
  /** Resolves undefined when the email is already taken (including by a concurrent request). */
  abstract create(user: NewUser): Promise<StoredUser | undefined>;
  abstract updatePasswordHash(id: string, passwordHash: string): Promise<void>;

  /**
   * Replaces `expected` by `next` (a rehash at login), unless the hash changed meanwhile: a password
   * change that won the race must not be undone by the old password's rehash. This default re-reads
   * first and leaves a small window; override it with one conditional update where the store can.
   */
  async replacePasswordHash(id: string, expected: string, next: string): Promise<boolean> {
    if ((await this.findById(id))?.passwordHash !== expected) return false;
    await this.updatePasswordHash(id, next);
    return true;
  }

  // What the administration routes need: without them those routes are not mounted, and asking for
  // them (`routes: { admin: true }`) fails the start-up naming what is missing.

  /** Users in email order, per `query`. */
  list?(query: UserListQuery): Promise<StoredUser[]>;
  /** Replaces the user's roles; undefined when there is no such user. */
  setRoles?(id: string, roles: string[]): Promise<StoredUser | undefined>;
  /** Disables (keeping the first `disabledAt` when already disabled) or enables; undefined when there is no such user. */
  setDisabled?(id: string, disabled: boolean): Promise<StoredUser | undefined>;
}
