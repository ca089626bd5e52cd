/**
 * The subscribers of an in-process notification. The list is replaced, never mutated, so one that
 * unsubscribes (or subscribes) while `all` is being walked changes nothing for that walk.
 */
export class ListenerList<T> {
  private listeners: readonly T[] = [];

  get all(): readonly T[] {
    return this.listeners;
  }

  /** Adds `listener`; returns the function that removes it (once; later calls do nothing). */
  add(listener: T): () => void {
    this.listeners = [...this.listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners = [...this.listeners.slice(0, index), ...this.listeners.slice(index + 1)];
    };
  }
}
