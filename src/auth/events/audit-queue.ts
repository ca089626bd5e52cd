/**
 * A first-in first-out queue of at most `capacity` items that drops its oldest when full and counts
 * what it dropped: the audit log's buffer while the database is away, so memory stays bounded and
 * the request path never waits.
 */
export class AuditQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private droppedUnreported = 0;
  /** Dropped since the queue was made. */
  dropped = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    if (this.size > this.capacity) {
      this.items[this.head++] = undefined;
      this.count(1);
    }
    this.compact();
  }

  /** Takes out up to `max` of the oldest items. */
  take(max: number): T[] {
    const batch = this.items.slice(this.head, this.head + max) as T[];
    this.head += batch.length;
    this.compact();
    return batch;
  }

  /** Puts a batch that could not be written back in front; what no longer fits is dropped, oldest first. */
  putBack(batch: readonly T[]): void {
    const all = [...batch, ...(this.items.slice(this.head) as T[])];
    const overflow = Math.max(0, all.length - this.capacity);
    this.items = overflow ? all.slice(overflow) : all;
    this.head = 0;
    this.count(overflow);
  }

  /** How many were dropped since the last call. */
  takeDropped(): number {
    const dropped = this.droppedUnreported;
    this.droppedUnreported = 0;
    return dropped;
  }

  private count(dropped: number): void {
    this.dropped += dropped;
    this.droppedUnreported += dropped;
  }

  // Amortised: the array is copied only once its dead front is as long as what is left.
  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
