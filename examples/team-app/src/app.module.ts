import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule, authMigrations, type StoredUser } from 'auth-service';
import { DataSource } from 'typeorm';
import { requiredEnv } from './env.js';
import { CreateTeamUsers1767225600000 } from './migrations/1767225600000-CreateTeamUsers.js';
import { TeamAuthGuard } from './team-auth.guard.js';
import { TeamController } from './team.controller.js';
import { TeamUser } from './users/team-user.entity.js';
import { type TeamStoredUser, TeamUserStore } from './users/team-user-store.js';

/** The tenant claim: from the user as TeamUserStore returned it, else looked up by id. */
async function tenantClaims(dataSource: DataSource, user: StoredUser): Promise<{ tenantId: string | null }> {
  const known = (user as Partial<TeamStoredUser>).tenantId;
  if (known !== undefined) return { tenantId: known };
  const row = await dataSource.getRepository(TeamUser).findOneBy({ id: Number(user.id) });
  return { tenantId: row?.tenantId ?? null };
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      host: requiredEnv('TEAM_DB_HOST'),
      port: Number(requiredEnv('TEAM_DB_PORT')),
      username: requiredEnv('TEAM_DB_USER'),
      password: process.env.TEAM_DB_PASSWORD || undefined,
      database: requiredEnv('TEAM_DB_NAME'),
      migrations: [...authMigrations, CreateTeamUsers1767225600000],
      migrationsRun: true,
      autoLoadEntities: true,
      synchronize: false,
    }),
    AuthModule.forRootAsync({
      imports: [TypeOrmModule.forFeature([TeamUser])],
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({
        jwtAlgorithm: 'HS256',
        jwtSecret: requiredEnv('TEAM_JWT_SECRET'),
        refreshTokenSecret: requiredEnv('TEAM_REFRESH_SECRET'),
        cookieSecure: false,
        extraClaims: (user: StoredUser) => tenantClaims(dataSource, user),
      }),
      userStore: TeamUserStore,
      // TeamUserStore has no listing, roles or disabling methods: the admin routes are simply not mounted.
      globalGuard: process.env.TEAM_GLOBAL_GUARD !== 'false',
    }),
  ],
  controllers: [TeamController],
  // TEAM_CUSTOM_GUARD=true: the team's subclass of JwtAuthGuard is the one global auth guard.
  providers: process.env.TEAM_CUSTOM_GUARD === 'true' ? [{ provide: APP_GUARD, useClass: TeamAuthGuard }] : [],
})
export class AppModule {}
