/**
 * The browser, React Native and Node client of the auth API (`<package>/client`): sign-in, a
 * Bearer-attaching fetch and openapi-fetch middleware, refresh that never signs a user out by a race.
 */
export { type AuthClient, type ChangePasswordInput, createAuthClient, type RegisterInput, type SessionInfo, type User } from './auth-client.js';
export { AuthClientError } from './auth-client.error.js';
export type {
  AuthClientOptions,
  AuthSession,
  AuthTransport,
  SessionChange,
  SessionEndReason,
  SessionListener,
  TokenStorage,
} from './auth-client.types.js';
export type { paths as AuthApiPaths } from './openapi-types.js';
