import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { IS_PUBLIC_KEY } from '../auth.constants.js';

/**
 * Opens a route to callers without an access token; the global JwtAuthGuard skips it. Documented as
 * the empty security requirement (`{}`: no credential needed), beside any scheme the route also takes.
 */
export const Public = (): MethodDecorator & ClassDecorator => applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiSecurity({}));
