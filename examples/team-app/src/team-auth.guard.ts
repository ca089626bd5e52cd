import { type ExecutionContext, Injectable } from '@nestjs/common';
import { JwtAuthGuard } from 'auth-service';

/**
 * The team's own global guard: the package's, except that calls from the team's internal network
 * (marked by the mesh with `X-Team-Internal: yes`) reach every route without a token.
 * Bound as APP_GUARD, it replaces the package's global guard instead of running beside it.
 */
@Injectable()
export class TeamAuthGuard extends JwtAuthGuard {
  protected override isPublic(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers['x-team-internal'] === 'yes' || super.isPublic(context);
  }
}
