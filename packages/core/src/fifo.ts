/**
 * A first-in, first-out queue with O(1) `shift`. `Array.prototype.shift` moves every
 * element once an array is past a few thousand (V8 trims only small arrays in
 * place): a simulated Queue, Pipe or Pool holding 100,000 items went quadratic.
 *
 * @internal
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // not kept reachable
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // Compact once the dead prefix is half the array: amortised O(1) per item.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
