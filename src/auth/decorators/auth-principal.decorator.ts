import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from '../authenticated-request.js';
import type { AuthPrincipal } from '../tokens/access-token.js';

/** The verified caller of a Bearer-authenticated route: `me(@CurrentPrincipal() principal: AuthPrincipal)`. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthPrincipal =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
