/** A user as the stores hold it. */
export interface StoredUser {
  id: string;
  email: string;
  passwordHash: string;
  displayName: string | null;
  roles: string[];
  createdAt: Date;
}

export interface NewUser {
  /** Already trimmed and lower-cased. */
  email: string;
  passwordHash: string;
  displayName: string | null;
}

/**
 * Where users live: the port AuthModule depends on. Bind another implementation (an existing user
 * table, a directory) to use AuthModule with your own users.
 */
export abstract class UserStore {
  abstract findByEmail(email: string): Promise<StoredUser | undefined>;
  abstract findById(id: string): Promise<StoredUser | undefined>;
  /** Resolves undefined when the email is already taken (including by a concurrent request). */
  abstract create(user: NewUser): Promise<StoredUser | undefined>;
  abstract updatePasswordHash(id: string, passwordHash: string): Promise<void>;
}
