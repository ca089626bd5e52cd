import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email         varchar(254) NOT NULL,
        password_hash text NOT NULL,
        display_name  varchar(100),
        roles         text[] NOT NULL DEFAULT '{user}',
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_lower CHECK (email = lower(email))
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);

    // One row per refresh-token family. "generation" is the generation of the family's active token.
    await queryRunner.query(`
      CREATE TABLE sessions (
        id             uuid PRIMARY KEY,
        user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
    await queryRunner.query(`CREATE INDEX sessions_user_id_active_idx ON sessions (user_id) WHERE revoked_at IS NULL`);
    // Loading recent revocations at start-up.
    await queryRunner.query(`CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`);

    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        generation  integer NOT NULL,
        token_hash  bytea NOT NULL,
        parent_id   bigint,
        issued_at   timestamptz NOT NULL DEFAULT now(),
        rotated_at  timestamptz,
        CONSTRAINT refresh_tokens_session_generation_key UNIQUE (session_id, generation)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash)`);
    // The database itself refuses a second active token in a family.
    await queryRunner.query(
      `CREATE UNIQUE INDEX refresh_tokens_one_active_per_session ON refresh_tokens (session_id) WHERE rotated_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE refresh_tokens`);
    await queryRunner.query(`DROP TABLE sessions`);
    await queryRunner.query(`DROP TABLE users`);
  }
}
