import type { SessionEndReason } from './auth-client.types.js';

/** A session as tabs hand it to each other (same origin only: BroadcastChannel never leaves it). */
export interface SharedSession {
  accessToken: string;
  /** Local deadline of the access token (the tabs share one clock). */
  expiresAt: number;
  /** When the server issued it, local ms: orders sessions across tabs (newest wins). */
  obtainedAt: number;
  /** When the request that got it was sent, local ms: every tab's ServerClock learns from it. */
  sentAt: number;
  /** Body transport only. */
  refreshToken?: string;
}

export type TabMessage =
  | { type: 'hello' }
  | { type: 'session'; session: SharedSession }
  | { type: 'signed_out'; reason: SessionEndReason | undefined; at: number; sessionId?: string };

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  unref?(): void;
}

type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

function isSharedSession(value: unknown): value is SharedSession {
  const session = value as SharedSession | null;
  return (
    typeof session === 'object' &&
    session !== null &&
    typeof session.accessToken === 'string' &&
    typeof session.expiresAt === 'number' &&
    typeof session.obtainedAt === 'number' &&
    typeof session.sentAt === 'number' &&
    (session.refreshToken === undefined || typeof session.refreshToken === 'string')
  );
}

function isTabMessage(value: unknown): value is TabMessage {
  const message = value as TabMessage | null;
  if (typeof message !== 'object' || message === null) return false;
  if (message.type === 'hello') return true;
  if (message.type === 'session') return isSharedSession(message.session);
  return message.type === 'signed_out' && typeof message.at === 'number';
}

/** A BroadcastChannel to the other tabs of this origin, or undefined where there is none. */
export function openTabChannel(name: string, onMessage: (message: TabMessage) => void): TabChannel | undefined {
  const Channel = (globalThis as unknown as { BroadcastChannel?: BroadcastChannelConstructor }).BroadcastChannel;
  if (!Channel) return undefined;
  const channel = new Channel(name);
  channel.onmessage = (event) => {
    if (isTabMessage(event.data)) onMessage(event.data);
  };
  // Node: an open channel would keep the process alive.
  channel.unref?.();
  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
