import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type NewUser, type StoredUser, type UserListQuery, UserStore } from './user-store.js';

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  display_name: string | null;
  roles: string[];
  created_at: Date;
  disabled_at: Date | null;
}

const USER_COLUMNS = 'id, email, password_hash, display_name, roles, created_at, disabled_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The default UserStore: the package's own `auth_users` table, over the host's DataSource. */
@Injectable()
export class PostgresUserStore extends UserStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async findByEmail(email: string): Promise<StoredUser | undefined> {
    return this.one(`SELECT ${USER_COLUMNS} FROM auth_users WHERE email = $1`, [email]);
  }

  async findById(id: string): Promise<StoredUser | undefined> {
    // Ids are opaque strings to the module; only a uuid can be one of ours.
    return UUID.test(id) ? this.one(`SELECT ${USER_COLUMNS} FROM auth_users WHERE id = $1`, [id]) : undefined;
  }

  async create(user: NewUser): Promise<StoredUser | undefined> {
    // The unique index settles concurrent registrations of one email: the loser inserts nothing.
    return this.one(
      `INSERT INTO auth_users (email, password_hash, display_name) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [user.email, user.passwordHash, user.displayName],
    );
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.dataSource.query('UPDATE auth_users SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
  }

  override async replacePasswordHash(id: string, expected: string, next: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `WITH replaced AS (
         UPDATE auth_users SET password_hash = $3, updated_at = now() WHERE id = $1 AND password_hash = $2 RETURNING id
       )
       SELECT id FROM replaced`,
      [id, expected, next],
    )) as unknown[];
    return rows.length === 1;
  }

  override async list(query: UserListQuery): Promise<StoredUser[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM auth_users
       WHERE ($1::text IS NULL OR starts_with(email, $1)) AND ($2::text IS NULL OR email > $2)
       ORDER BY email LIMIT $3`,
      [query.emailPrefix ?? null, query.afterEmail ?? null, query.limit],
    )) as UserRow[];
    return rows.map(toStoredUser);
  }

  override async setRoles(id: string, roles: string[]): Promise<StoredUser | undefined> {
    return this.update(id, 'roles = $2', [roles]);
  }

  override async setDisabled(id: string, disabled: boolean): Promise<StoredUser | undefined> {
    return this.update(id, `disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END`, [disabled]);
  }

  private async update(id: string, set: string, parameters: unknown[]): Promise<StoredUser | undefined> {
    if (!UUID.test(id)) return undefined;
    return this.one(
      `WITH updated AS (UPDATE auth_users SET ${set}, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS})
       SELECT * FROM updated`,
      [id, ...parameters],
    );
  }

  private async one(sql: string, parameters: unknown[]): Promise<StoredUser | undefined> {
    const [row] = (await this.dataSource.query(sql, parameters)) as UserRow[];
    return row && toStoredUser(row);
  }
}

function toStoredUser(row: UserRow): StoredUser {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    displayName: row.display_name,
    roles: row.roles,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}
