import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** One checked dependency, as @nestjs/terminus reports it. */
export class HealthIndicatorDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status: 'up' | 'down';
}

const INDICATORS = {
  type: 'object',
  additionalProperties: { $ref: getSchemaPath(HealthIndicatorDto) },
  example: { database: { status: 'up' } },
} as const;

/** The body of a ready service (terminus' HealthCheckResult); not ready is a 503 error body. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({ ...INDICATORS, description: 'The dependencies that are up' })
  info: Record<string, HealthIndicatorDto>;

  @ApiProperty({ ...INDICATORS, description: 'The dependencies that are down (none when ready)', example: {} })
  error: Record<string, HealthIndicatorDto>;

  @ApiProperty({ ...INDICATORS, description: 'Every dependency checked' })
  details: Record<string, HealthIndicatorDto>;
}

export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';
}
