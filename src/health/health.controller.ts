import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiErrors, AuthErrorCode, Public } from '../auth/index.js';
import { HealthIndicatorDto, LivenessDto, ReadinessDto } from './health.dto.js';

@ApiTags('health')
@ApiExtraModels(HealthIndicatorDto)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness: can this instance serve?',
    description: 'Pings the database (1 s timeout). 200 when it answers; else 503 `service_unavailable`, so a load balancer stops sending traffic here.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiErrors(AuthErrorCode.ServiceUnavailable)
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 1000 })]);
  }

  @Get('live')
  @ApiOperation({
    summary: 'Liveness: is the process answering?',
    description: 'No database work: 200 as long as the event loop runs. Restart the instance when this fails, not when readiness does.',
  })
  @ApiOkResponse({ type: LivenessDto, description: 'Alive' })
  liveness(): LivenessDto {
    return { status: 'ok' };
  }
}
