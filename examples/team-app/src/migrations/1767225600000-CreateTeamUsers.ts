import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The team's users table; the auth package's own tables come from its `authMigrations`. */
export class CreateTeamUsers1767225600000 implements MigrationInterface {
  name = 'CreateTeamUsers1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        display_name text,
        is_admin boolean NOT NULL DEFAULT false,
        tenant_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE users');
  }
}
