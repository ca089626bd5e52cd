/** Runs `task` while no other tab runs one under the same name; `contended` says whether it had to wait. */
export type RefreshLock = <T>(task: (contended: boolean) => Promise<T>) => Promise<T>;

interface LockManagerLike {
  request<T>(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

const BUSY = Symbol('busy');

/**
 * The Web Locks API where present (browsers, across every tab and worker of the origin); elsewhere
 * the task just runs, and the client's own single flight keeps it to one at a time per process.
 */
export function refreshLock(name: string | undefined): RefreshLock {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (!name || !locks) return (task) => task(false);
  return async <T>(task: (contended: boolean) => Promise<T>): Promise<T> => {
    const first = await locks.request(name, { ifAvailable: true }, async (lock) => (lock ? task(false) : BUSY));
    if (first !== BUSY) return first as T;
    return locks.request(name, () => task(true));
  };
}
