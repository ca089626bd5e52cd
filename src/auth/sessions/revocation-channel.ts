/** The Postgres NOTIFY channel on which every revocation is announced, payload `<sessionId>`. */
export const REVOCATION_CHANNEL = 'auth_session_revoked';
