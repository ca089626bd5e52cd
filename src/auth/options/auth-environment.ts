import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const DURATION = /^\s*\d{1,9}[smhd]?\s*$/;
const DURATION_MESSAGE = 'must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)';
const BOOLEAN = ['true', 'false'];

/** The auth variables of the HTTP contract, as text; their shapes are checked here, their rules in auth-settings. */
export class AuthEnvironment {
  @IsOptional() @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  ACCESS_TOKEN_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_TOKEN_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_IDLE_TTL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_REUSE_GRACE?: string;

  // EdDSA is left out: jsonwebtoken 9 (under passport-jwt) cannot verify it.
  @IsOptional() @IsIn(['ES256', 'RS256', 'HS256'], { message: 'must be ES256, RS256 or HS256 (EdDSA is not supported by jsonwebtoken 9)' })
  JWT_ALGORITHM?: string;

  @IsOptional() @IsString()
  JWT_PRIVATE_KEYS?: string;

  // Its length (in bytes, not characters) is checked with the options.
  @IsOptional() @IsString()
  JWT_SECRET?: string;

  @IsOptional() @IsString() @MinLength(1)
  JWT_ISSUER?: string;

  @IsOptional() @IsString() @MinLength(1)
  JWT_AUDIENCE?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  JWT_CLOCK_SKEW?: string;

  // Its length (in bytes, not characters) is checked with the options.
  @IsOptional() @IsString()
  REFRESH_TOKEN_SECRET?: string;

  @IsOptional() @IsIn(BOOLEAN)
  COOKIE_SECURE?: string;

  @IsOptional() @IsString()
  CORS_ORIGINS?: string;

  @IsOptional() @IsIn(['on', 'off'])
  RATE_LIMIT?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000)
  SESSIONS_PER_USER_MAX?: number;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  REVOCATION_MAX_STALENESS?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  SESSION_RETENTION?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  CLEANUP_INTERVAL?: string;

  @IsOptional() @Matches(DURATION, { message: DURATION_MESSAGE })
  AUDIT_RETENTION?: string;

  // Their bounds are checked with the options (the same messages as for the options).
  @IsOptional() @Type(() => Number) @IsInt()
  ACCESS_TOKEN_CACHE_SIZE?: number;

  @IsOptional() @Type(() => Number) @IsInt()
  PASSWORD_HASH_CONCURRENCY?: number;

  @IsOptional() @Type(() => Number) @IsInt()
  PASSWORD_HASH_QUEUE?: number;
}

/**
 * Reads the auth variables (others are ignored; empty strings count as unset). Returns the variables
 * that are well-formed and a problem naming each one that is not.
 */
export function validateAuthEnvironment(raw: Record<string, string | undefined>): { env: AuthEnvironment; problems: string[] } {
  const set = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const env = plainToInstance(AuthEnvironment, set);
  const problems: string[] = [];
  for (const { property, constraints = {} } of validateSync(env, { forbidUnknownValues: false })) {
    delete (env as Record<string, unknown>)[property];
    problems.push(...Object.values(constraints).map((message) => namedProblem(property, message)));
  }
  return { env, problems };
}

/** class-validator's own messages start with the property; ours do not. */
export function namedProblem(property: string, message: string): string {
  return message.startsWith(`${property} `) ? message : `${property} ${message}`;
}
