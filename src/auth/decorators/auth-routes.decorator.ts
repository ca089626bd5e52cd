import { applyDecorators, UseFilters, UsePipes } from '@nestjs/common';
import { AuthExceptionFilter } from '../errors/auth-exception.filter.js';
import { AuthValidationPipe } from '../validation.pipe.js';

/** The package's controllers bring their own validation and error shape: nothing is asked of the host's bootstrap. */
export const AuthRoutes = (): ClassDecorator => applyDecorators(UseFilters(AuthExceptionFilter), UsePipes(AuthValidationPipe));
