import type { SessionInfoDto } from '../dto/session.dto.js';
import type { SessionRecord } from './session-store.js';

/** The API's view of a session: never its generation or any token material. */
export function toSessionInfoDto(session: SessionRecord): SessionInfoDto {
  return {
    id: session.id,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    userAgent: session.userAgent,
    ip: session.ip,
  };
}
