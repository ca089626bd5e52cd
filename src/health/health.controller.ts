import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ErrorDto, Public } from '../auth/index.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: 200 when the database answers, else 503 service_unavailable' })
  @ApiOkResponse({ description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'code: service_unavailable' })
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 1000 })]);
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers; no database work' })
  @ApiOkResponse({ description: 'Alive' })
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
