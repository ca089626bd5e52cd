import * as argon2 from '@node-rs/argon2';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { authMigrations } from '../src/auth/index.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { migrateDatabase } from '../src/database/migrate.js';
import { startTestApp } from './support/test-app.js';
import { PASSWORD } from './support/users.js';

// authMigrations on a database of their own: a fresh one, one with a host's tables of the same plain
// names, and one the service's first migration made (adopted, every row kept).
const serverUrl = new URL(process.env.TEST_DATABASE_URL!);
const databaseUrl = (name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
const names: string[] = [];

async function freshDatabase(label: string): Promise<string> {
  const name = `${serverUrl.pathname.slice(1)}_${label}`;
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  names.push(name);
  return databaseUrl(name);
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const tablesOf = (client: pg.Client) =>
  client
    .query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
    .then(({ rows }) => rows.map((row) => row.name));

// Index and constraint names live in one namespace per schema: none of the package's may be a plain name.
const relationNamesOf = (client: pg.Client) =>
  client
    .query<{ name: string }>(
      `SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND relname <> 'migrations' AND relname NOT LIKE 'migrations_%'
         AND c.oid NOT IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'public.migrations'::regclass)
       ORDER BY 1`,
    )
    .then(({ rows }) => rows.map((row) => row.name));

afterAll(async () => {
  await withClient(databaseUrl('postgres'), async (admin) => {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
});

describe('authMigrations', () => {
  it('create only auth_-prefixed tables, indexes and constraints, and go down again', async () => {
    const url = await freshDatabase('fresh');
    expect(await migrateDatabase(url)).toEqual(authMigrations.map((migration) => migration.name));
    await withClient(url, async (client) => {
      expect(await tablesOf(client)).toEqual(['auth_events', 'auth_sessions', 'auth_users', 'migrations']);
      const relations = await relationNamesOf(client);
      expect(relations.length).toBeGreaterThan(5);
      expect(relations.filter((name) => !name.startsWith('auth_'))).toEqual([]);
      const { rows } = await client.query(`SELECT data_type FROM information_schema.columns WHERE table_name = 'auth_sessions' AND column_name = 'user_id'`);
      expect(rows).toEqual([{ data_type: 'text' }]);
    });
    const dataSource = await new DataSource(buildDataSourceOptions(url, 1)).initialize();
    try {
      for (let step = 0; step < authMigrations.length; step++) await dataSource.undoLastMigration();
    } finally {
      await dataSource.destroy();
    }
    await withClient(url, async (client) => expect(await tablesOf(client)).toEqual(['migrations']));
  });

  it("leave a host's own users, sessions and refresh_tokens tables alone", async () => {
    const url = await freshDatabase('host');
    await withClient(url, (client) =>
      client.query(`CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE);
                    CREATE TABLE sessions (id serial PRIMARY KEY);
                    CREATE TABLE refresh_tokens (id serial PRIMARY KEY);
                    CREATE INDEX sessions_user_id_active_idx ON sessions (id);
                    INSERT INTO users (email) VALUES ('host@example.test');`),
    );
    await migrateDatabase(url);
    await withClient(url, async (client) => {
      expect(await tablesOf(client)).toEqual(['auth_events', 'auth_sessions', 'auth_users', 'migrations', 'refresh_tokens', 'sessions', 'users']);
      expect((await client.query('SELECT email FROM users')).rows).toEqual([{ email: 'host@example.test' }]);
    });
  });

  it('adopt a database of the service\'s first migration: tables renamed, every row kept, the service serves it', async () => {
    const url = await freshDatabase('legacy');
    const userId = randomUUID();
    const email = `legacy-${userId}@example.test`;
    await withClient(url, async (client) => {
      await client.query(await readFile(new URL('./fixtures/legacy-schema.sql', import.meta.url), 'utf8'));
      await client.query('INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)', [userId, email, await argon2.hash(PASSWORD)]);
      await client.query(`INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`, [randomUUID(), userId]);
    });

    expect(await migrateDatabase(url)).toEqual(authMigrations.map((migration) => migration.name));
    await withClient(url, async (client) => {
      expect(await tablesOf(client)).toEqual(['auth_events', 'auth_sessions', 'auth_users', 'migrations']);
      expect((await relationNamesOf(client)).filter((name) => !name.startsWith('auth_'))).toEqual([]);
      expect((await client.query('SELECT email, disabled_at FROM auth_users')).rows).toEqual([{ email, disabled_at: null }]);
      // Kept, but ended: its refresh tokens were of the old, looked-up-by-hash kind.
      expect((await client.query('SELECT user_id, revoked_reason FROM auth_sessions')).rows).toEqual([{ user_id: userId, revoked_reason: 'token_format' }]);
    });

    const app = await startTestApp({}, url);
    try {
      const loggedIn = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
      expect(loggedIn.status).toBe(200);
      const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: loggedIn.body.refreshToken } });
      expect(refreshed.status).toBe(200);
      expect((await app.request('GET', '/users/me', { token: refreshed.body.accessToken })).body.id).toBe(userId);
    } finally {
      await app.close();
    }
  });
});
