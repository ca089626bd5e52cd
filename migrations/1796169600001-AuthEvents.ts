import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The security events (login outcomes, revocations, account changes), written in batches by the
 * package and deleted after AUDIT_RETENTION. Columns are sized like the package's cuts, so no event
 * fails its insert; nothing references another table, so the clean-up deletes sessions freely.
 */
export class AuthEvents1796169600001 implements MigrationInterface {
  name = 'AuthEvents1796169600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE auth_events (
        id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT auth_events_pkey PRIMARY KEY,
        type        varchar(64) NOT NULL,
        user_id     text,
        session_id  uuid,
        ip          varchar(64),
        user_agent  varchar(512),
        request_id  varchar(128),
        at          timestamptz NOT NULL DEFAULT now(),
        detail      jsonb NOT NULL DEFAULT '{}'
      )`);
    // The clean-up deletes by age; an account's history is read newest first.
    await queryRunner.query(`CREATE INDEX auth_events_at_idx ON auth_events (at)`);
    await queryRunner.query(`CREATE INDEX auth_events_user_id_at_idx ON auth_events (user_id, at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE auth_events`);
  }
}
