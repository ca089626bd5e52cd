import { ConfigurableModuleBuilder } from '@nestjs/common';
import { AUTH_MODULE_OPTIONS } from './auth.constants.js';
import type { AuthModuleExtras, AuthModuleOptions } from './auth.options.js';
import { withAuthParts } from './auth.module-parts.js';

// Every key listed here is an extra: taken out of the options and handed to withAuthParts.
const DEFAULT_EXTRAS: Required<Pick<AuthModuleExtras, 'globalGuard' | 'routes'>> & AuthModuleExtras = {
  userStore: undefined,
  passwordHasher: undefined,
  globalGuard: true,
  routes: {},
  rateLimitStorage: undefined,
};

export const {
  ConfigurableModuleClass: ConfigurableAuthModule,
  OPTIONS_TYPE: AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth', optionsInjectionToken: AUTH_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<AuthModuleExtras>(DEFAULT_EXTRAS, withAuthParts)
  .build();
