/** Passport strategy names, used by the strategies and the guards that run them. */
export const JWT_STRATEGY = 'jwt';
export const REFRESH_TOKEN_STRATEGY = 'refresh-token';

/** Metadata keys set by the decorators and read by the guards. */
export const IS_PUBLIC_KEY = 'auth:isPublic';
export const ROLES_KEY = 'auth:roles';
export const RATE_LIMIT_KEY = 'auth:rateLimit';
/** The error codes @ApiErrors has documented on a route so far. */
export const API_ERRORS_KEY = 'auth:apiErrors';

/** The name the OpenAPI document gives the Bearer scheme. */
export const BEARER_SECURITY = 'bearer';

/** The injection token of the module's raw options (AuthModuleOptions). */
export const AUTH_MODULE_OPTIONS = Symbol('AUTH_MODULE_OPTIONS');
/** The name the OpenAPI document gives the refresh-cookie scheme. */
export const REFRESH_COOKIE_SECURITY = 'refreshCookie';

/** The role whose holders may use the administration routes (`/admin/...`). */
export const ADMIN_ROLE = 'admin';
