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

    // One row per refresh-token family, whatever its rotations: "generation" is that of the family's
    // one active token, "rotations" when the last few generations were rotated (newest first). No
    // token is stored: a token names its family and generation under the server's MAC.
    await queryRunner.query(`
      CREATE TABLE auth_sessions (
        id             uuid PRIMARY KEY,
        user_id        text NOT NULL,
        generation     integer NOT NULL DEFAULT 0,
        rotations      timestamptz[] NOT NULL DEFAULT '{}',
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE auth_sessions`);
    await queryRunner.query(`DROP TABLE auth_users`);
  }
}

async function ranLegacyMigration(queryRunner: QueryRunner): Promise<boolean> {
  const table = queryRunner.connection.options.migrationsTableName ?? 'migrations';
  const rows = (await queryRunner.query(`SELECT 1 FROM "${table.replaceAll('"', '""')}" WHERE name = $1`, [LEGACY_MIGRATION])) as unknown[];
  return rows.length > 0;
}

/** Renames the legacy tables and everything named after them, keeping every user and session row. */
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
    // Its tokens were looked up by hash; those of this schema name their family under a MAC instead,
    // so the old ones cannot be honoured: their sessions end, and their users log in again.
    'DROP TABLE refresh_tokens',
    "ALTER TABLE auth_sessions ADD COLUMN rotations timestamptz[] NOT NULL DEFAULT '{}'",
    "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'token_format' WHERE revoked_at IS NULL",
  ];
  for (const statement of statements) await queryRunner.query(statement);
}
