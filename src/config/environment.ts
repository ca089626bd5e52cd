import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { ConfigurationError } from '../auth/index.js';

const BOOLEAN = ['true', 'false'];

/** The service's own variables, validated once at start-up; the auth variables are authOptionsFromEnv()'s. */
export class Environment {
  @IsOptional() @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @IsString()
  HOST?: string;

  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: '$property must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional() @Matches(/^rediss?:\/\/[^\s/]\S*$/, { message: '$property must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional() @IsIn(BOOLEAN)
  DB_MIGRATE_ON_START?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  DB_POOL_SIZE?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(65535)
  EMBEDDED_PG_PORT?: number;

  @IsOptional() @IsString()
  DATA_DIR?: string;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  // Its forms are checked by parseTrustProxy (trust-proxy.ts).
  @IsOptional() @IsString()
  TRUST_PROXY?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(64)
  WEB_CONCURRENCY?: number;

  @IsOptional() @IsIn(['fastify', 'express'])
  HTTP_ADAPTER?: string;

  @IsOptional() @IsIn(['on', 'off'])
  METRICS?: string;
}

/** Validates the service's variables (empty strings count as unset); throws naming every bad one. */
export function validateEnvironment(raw: Record<string, string | undefined>): Environment {
  const env = plainToInstance(Environment, Object.fromEntries(Object.entries(raw).filter(([, value]) => value)));
  const errors = validateSync(env, { forbidUnknownValues: false });
  if (!errors.length) return env;
  // Every message names its variable ($property).
  throw new ConfigurationError(errors.flatMap(({ constraints = {} }) => Object.values(constraints)));
}
