import { Injectable, Logger } from '@nestjs/common';
import { AuditWriter } from './audit-writer.js';
import { type AuthEvent, authEventJson, type NewAuthEvent, toAuthEvent } from './auth-event.js';
import { ListenerList } from './listener-list.js';

/** Called with every event, synchronously, in emission order; what it throws or rejects with is logged, never passed on. */
export type AuthEventListener = (event: AuthEvent) => void | Promise<unknown>;

/**
 * The security events: each is logged as one JSON line at info (context `AuthEvents`), handed to the
 * in-process subscribers, and queued for the `auth_events` table, which a writer fills in batches
 * off the request path. `emit` is synchronous, cheap and never throws.
 */
@Injectable()
export class AuthEvents {
  private readonly logger = new Logger(AuthEvents.name);
  private readonly listeners = new ListenerList<AuthEventListener>();

  constructor(private readonly writer: AuditWriter) {}

  /** Records an event; returns it as it was logged, delivered and queued (cut to size, secrets dropped, frozen). */
  emit(event: NewAuthEvent): AuthEvent {
    const recorded = toAuthEvent(event);
    try {
      this.logger.log(authEventJson(recorded));
    } catch {
      // A host's logger failing must not fail the request that emitted.
    }
    this.writer.enqueue(recorded);
    for (const listener of this.listeners.all) this.deliver(listener, recorded);
    return recorded;
  }

  /** Calls `listener` with every event from now on; returns the function that stops it. */
  subscribe(listener: AuthEventListener): () => void {
    return this.listeners.add(listener);
  }

  /** Writes the queued events now (they are written within about 100 ms anyway); true when none is left queued. Never rejects. */
  flush(): Promise<boolean> {
    return this.writer.flush();
  }

  private deliver(listener: AuthEventListener, event: AuthEvent): void {
    try {
      const result = listener(event);
      if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => this.listenerFailed(event, error));
      }
    } catch (error) {
      this.listenerFailed(event, error);
    }
  }

  private listenerFailed(event: AuthEvent, error: unknown): void {
    this.logger.error(`a subscriber to ${event.type} events failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
  }
}
