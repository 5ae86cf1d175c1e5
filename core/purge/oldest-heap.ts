/**
 * The oldest users seen so far, at most a fixed number of them: what the identity purge keeps in memory while
 * it lists a pool of any size. A max-heap ordered by (timestamp, id), so its root is the youngest it holds:
 * a newcomer older than the root takes the root's place, anyone younger is dropped at once. Memory and the
 * JSON the heap travels in between two steps are O(capacity), whatever the number of users offered.
 *
 * Bounded twice: by count (the per-run cap) and by the bytes its entries take as JSON, so a step's state
 * stays within what Step Functions carries even if usernames are long (Cognito allows 128 characters, each
 * up to 4 bytes of UTF-8). When the bytes run out, the youngest go first, as they would past the count.
 */

/**
 * One entry as it is stored: `[timestamp in ms, id]`, and `1` after them for an entry the caller marked (the
 * identity purge marks the users it listed disabled). Unmarked entries, the usual ones, cost nothing more.
 */
export type OldestEntry = readonly [at: number, id: string, marked?: 1];

export interface OldestHeapLimits {
  /** At most this many entries. */
  readonly count: number;
  /** At most this many bytes of JSON for the entries together (see {@link entryBytes}). */
  readonly bytes: number;
}

/** The bytes one entry takes in the state's JSON, its separator included. */
export function entryBytes(entry: OldestEntry): number {
  return Buffer.byteLength(JSON.stringify(entry), "utf8") + 1;
}

/** a < b in (timestamp, id) order: older first, ties by id so a run is reproducible. */
function before(a: OldestEntry, b: OldestEntry): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export class OldestHeap {
  private readonly heap: OldestEntry[] = [];
  private readonly ids = new Set<string>();
  private bytes = 0;

  constructor(private readonly limits: OldestHeapLimits) {
    if (!Number.isSafeInteger(limits.count) || limits.count < 0) {
      throw new RangeError("OldestHeap: count must be a whole number of at least 0");
    }
  }

  /** A heap holding `entries` (any order), trimmed to the limits. */
  static from(entries: Iterable<OldestEntry>, limits: OldestHeapLimits): OldestHeap {
    const heap = new OldestHeap(limits);
    for (const entry of entries) heap.offer(entry[0], entry[1], entry[2] === 1);
    return heap;
  }

  get size(): number {
    return this.heap.length;
  }

  /**
   * Offers one user. Kept when the heap has room or the user is older than the youngest it holds (who then
   * leaves); an id already held is not added twice. A `marked` entry keeps its mark.
   */
  offer(at: number, id: string, marked = false): void {
    if (this.ids.has(id)) return;
    const entry: OldestEntry = marked ? [at, id, 1] : [at, id];
    const root = this.heap[0];
    if (this.heap.length >= this.limits.count && (root === undefined || !before(entry, root))) return;
    this.push(entry);
    while (this.heap.length > this.limits.count || (this.bytes > this.limits.bytes && this.heap.length > 0)) {
      this.pop();
    }
  }

  /** The entries, oldest first. */
  sorted(): OldestEntry[] {
    return [...this.heap].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }

  /** The entries as the state stores them (heap order; {@link OldestHeap.from} takes any order). */
  toJSON(): OldestEntry[] {
    return this.heap.map(([at, id, marked]) => (marked === 1 ? [at, id, 1] : [at, id]));
  }

  private push(entry: OldestEntry): void {
    this.heap.push(entry);
    this.ids.add(entry[1]);
    this.bytes += entryBytes(entry);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[parent] as OldestEntry, this.heap[i] as OldestEntry)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the youngest entry (the root). */
  private pop(): void {
    const root = this.heap[0];
    const last = this.heap.pop();
    if (root === undefined || last === undefined) return;
    this.ids.delete(root[1]);
    this.bytes -= entryBytes(root);
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (
        left < this.heap.length &&
        before(this.heap[largest] as OldestEntry, this.heap[left] as OldestEntry)
      ) {
        largest = left;
      }
      if (
        right < this.heap.length &&
        before(this.heap[largest] as OldestEntry, this.heap[right] as OldestEntry)
      ) {
        largest = right;
      }
      if (largest === i) return;
      this.swap(i, largest);
      i = largest;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as OldestEntry;
    this.heap[i] = this.heap[j] as OldestEntry;
    this.heap[j] = a;
  }
}
