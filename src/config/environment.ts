import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';
import { Type } from 'class-transformer';
import { ConfigurationError } from './configuration-error.js';

const DURATION = /^\s*\d{1,9}[smhd]?\s*$/;
const DURATION_MESSAGE = 'must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)';
const BOOLEAN = ['true', 'false'];

/** The raw environment, validated once at start-up. Only src/config reads process.env. */
export class Environment {
  @IsOptional() @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @IsString()
  HOST?: string;

  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

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

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  ACCESS_TOKEN_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_TOKEN_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_IDLE_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_REUSE_GRACE?: string;

  // EdDSA is left out: jsonwebtoken 9 (under @nestjs/jwt and passport-jwt) cannot sign or verify it.
  @IsOptional() @IsIn(['ES256', 'RS256', 'HS256'], { message: 'must be ES256, RS256 or HS256 (EdDSA is not supported by jsonwebtoken 9)' })
  JWT_ALGORITHM?: string;

  @IsOptional() @IsString()
  JWT_PRIVATE_KEYS?: string;

  @ValidateIf((env: Environment) => env.JWT_SECRET !== undefined)
  @IsString() @MinLength(32, { message: 'must be at least 32 bytes' })
  JWT_SECRET?: string;

  @IsOptional() @IsString() @MinLength(1)
  JWT_ISSUER?: string;

  @IsOptional() @IsString() @MinLength(1)
  JWT_AUDIENCE?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  JWT_CLOCK_SKEW?: string;

  @IsOptional() @IsIn(BOOLEAN)
  COOKIE_SECURE?: string;

  @IsOptional() @IsString()
  CORS_ORIGINS?: string;

  @IsOptional() @IsIn(['on', 'off'])
  RATE_LIMIT?: string;

  @ValidateIf((env: Environment) => env.REFRESH_TOKEN_SECRET !== undefined)
  @IsString() @MinLength(32, { message: 'must be at least 32 bytes' })
  REFRESH_TOKEN_SECRET?: string;

  @IsOptional() @IsIn(BOOLEAN)
  TRUST_PROXY?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REVOCATION_MAX_STALENESS?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(64)
  WEB_CONCURRENCY?: number;
}

/** Validates the raw variables; empty strings count as unset. Throws naming every bad variable. */
export function validateEnvironment(raw: Record<string, string | undefined>): Environment {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(Environment, present);
  const problems = validateSync(env, { forbidUnknownValues: false }).map(
    (error) => `${error.property} ${Object.values(error.constraints ?? {}).join('; ')}`,
  );
  if (problems.length) throw new ConfigurationError(problems);
  return env;
}
