/** The claims of an access token the client relies on (it never verifies them: the API does). */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  roles: string[];
  iat: number;
  exp: number;
}

/** The payload of a JWT, or undefined when the string is not one with the claims above. */
export function readClaims(token: string): AccessTokenClaims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const claims = JSON.parse(typeof TextDecoder === 'function' ? new TextDecoder().decode(bytes) : binary) as Partial<AccessTokenClaims>;
    const valid =
      typeof claims.sub === 'string' &&
      typeof claims.sid === 'string' &&
      typeof claims.iat === 'number' &&
      typeof claims.exp === 'number' &&
      (claims.roles === undefined || Array.isArray(claims.roles));
    return valid ? { ...(claims as AccessTokenClaims), roles: claims.roles ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

const SAMPLES = 8;

/**
 * Where the server's clock stands against ours, learnt from the tokens it issues, so `exp` (server
 * time, whole seconds) becomes a local deadline without trusting the local clock. A token issued
 * while a request sent at `sentAt` was in flight has `iat = floor(server time)`, so
 * server − local < iat·1000 + 1000 − sentAt; the smallest bound among recent tokens is the tightest,
 * and a deadline computed from it is never later than the real one. Only recent tokens count, so a
 * local clock that jumps is forgotten after a few refreshes.
 */
export class ServerClock {
  private readonly bounds: number[] = [];

  observe(iat: number, sentAt: number): void {
    this.bounds.push(iat * 1000 + 1000 - sentAt);
    if (this.bounds.length > SAMPLES) this.bounds.shift();
  }

  /** The local time by which the server's clock has surely passed `seconds` (server time). */
  localDeadline(seconds: number): number {
    return seconds * 1000 - Math.min(...this.bounds);
  }
}
