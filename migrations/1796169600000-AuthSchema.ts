import type { MigrationInterface, QueryRunner } from 'typeorm';

// The service's first migration, which made these tables under names a host may use itself
// (`users`, `sessions`, `refresh_tokens`). A database it ran on is adopted below, not recreated.
const LEGACY_MIGRATION = 'InitialSchema1764230400000';

/**
 * The package's tables, prefixed `auth_` (every index and constraint too) so they never collide with
 * a host's. User ids are opaque text with no foreign key: the host's users may live anywhere.
 */
export class AuthSchema1796169600000 implements MigrationInterface {
  name = 'AuthSchema1796169600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (await ranLegacyMigration(queryRunner)) return adoptLegacyTables(queryRunner);
    await queryRunner.query(`
      CREATE TABLE auth_users (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email         varchar(254) NOT NULL,
        password_hash text NOT NULL,
        display_name  varchar(100),
        roles         text[] NOT NULL DEFAULT '{user}',
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        disabled_at   timestamptz,
        CONSTRAINT auth_users_email_lower CHECK (email = lower(email))
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX auth_users_email_key ON auth_users (email)`);

    // One row per refresh-token family. "generation" is the generation of the family's active token.
    await queryRunner.query(`
      CREATE TABLE auth_sessions (
        id             uuid PRIMARY KEY,
        user_id        text NOT NULL,
        generation     integer NOT NULL DEFAULT 0,
        created_at     timestamptz NOT NULL DEFAULT now(),
        last_used_at   timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL,
        revoked_at     timestamptz,
        revoked_reason varchar(32),
        user_agent     varchar(512),
        ip             varchar(64)
      )`);
    // Listing and revoking a user's live sessions.
    await queryRunner.query(`CREATE INDEX auth_sessions_user_id_active_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL`);
    // Loading recent revocations at start-up.
    await queryRunner.query(`CREATE INDEX auth_sessions_revoked_at_idx ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL`);

    await queryRunner.query(`
      CREATE TABLE auth_refresh_tokens (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id  uuid NOT NULL CONSTRAINT auth_refresh_tokens_session_id_fkey REFERENCES auth_sessions (id) ON DELETE CASCADE,
        generation  integer NOT NULL,
        token_hash  bytea NOT NULL,
        parent_id   bigint,
        issued_at   timestamptz NOT NULL DEFAULT now(),
        rotated_at  timestamptz,
        CONSTRAINT auth_refresh_tokens_session_generation_key UNIQUE (session_id, generation)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX auth_refresh_tokens_token_hash_key ON auth_refresh_tokens (token_hash)`);
    // The database itself refuses a second active token in a family.
    await queryRunner.query(
      `CREATE UNIQUE INDEX auth_refresh_tokens_one_active_per_session ON auth_refresh_tokens (session_id) WHERE rotated_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE auth_refresh_tokens`);
    await queryRunner.query(`DROP TABLE auth_sessions`);
    await queryRunner.query(`DROP TABLE auth_users`);
  }
}

async function ranLegacyMigration(queryRunner: QueryRunner): Promise<boolean> {
  const table = queryRunner.connection.options.migrationsTableName ?? 'migrations';
  const rows = (await queryRunner.query(`SELECT 1 FROM "${table.replaceAll('"', '""')}" WHERE name = $1`, [LEGACY_MIGRATION])) as unknown[];
  return rows.length > 0;
}

/** Renames the legacy tables and everything named after them, keeping every row. */
async function adoptLegacyTables(queryRunner: QueryRunner): Promise<void> {
  const statements = [
    'ALTER TABLE users RENAME TO auth_users',
    'ALTER TABLE auth_users RENAME CONSTRAINT users_pkey TO auth_users_pkey',
    'ALTER TABLE auth_users RENAME CONSTRAINT users_email_lower TO auth_users_email_lower',
    'ALTER INDEX users_email_key RENAME TO auth_users_email_key',
    'ALTER TABLE auth_users ADD COLUMN disabled_at timestamptz',
    'ALTER TABLE sessions RENAME TO auth_sessions',
    'ALTER TABLE auth_sessions DROP CONSTRAINT sessions_user_id_fkey',
    'ALTER TABLE auth_sessions ALTER COLUMN user_id TYPE text',
    'ALTER TABLE auth_sessions RENAME CONSTRAINT sessions_pkey TO auth_sessions_pkey',
    'ALTER INDEX sessions_user_id_active_idx RENAME TO auth_sessions_user_id_active_idx',
    'ALTER INDEX sessions_revoked_at_idx RENAME TO auth_sessions_revoked_at_idx',
    'ALTER TABLE refresh_tokens RENAME TO auth_refresh_tokens',
    'ALTER TABLE auth_refresh_tokens RENAME CONSTRAINT refresh_tokens_pkey TO auth_refresh_tokens_pkey',
    'ALTER TABLE auth_refresh_tokens RENAME CONSTRAINT refresh_tokens_session_id_fkey TO auth_refresh_tokens_session_id_fkey',
    'ALTER TABLE auth_refresh_tokens RENAME CONSTRAINT refresh_tokens_session_generation_key TO auth_refresh_tokens_session_generation_key',
    'ALTER INDEX refresh_tokens_token_hash_key RENAME TO auth_refresh_tokens_token_hash_key',
    'ALTER INDEX refresh_tokens_one_active_per_session RENAME TO auth_refresh_tokens_one_active_per_session',
    'ALTER SEQUENCE refresh_tokens_id_seq RENAME TO auth_refresh_tokens_id_seq',
  ];
  for (const statement of statements) await queryRunner.query(statement);
}
