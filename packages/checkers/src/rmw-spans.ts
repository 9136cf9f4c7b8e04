/**
 * The read-modify-write spans the lost-update and atomicity checkers judge, kept per
 * location: a process's read of the location opens its span (a newer read restarts
 * it: the write pairs with the latest read), and its next write closes it. The span
 * is a read-modify-write when the two are different steps ({@link completes}).
 *
 * @internal
 */
export class OpenSpans<S> {
  /** By process (clock) index: its open span. An array, not a map: writes scan it. */
  readonly open: (S | undefined)[] = [];
  /** How many are open: most writes then skip the scan. */
  count = 0;

  get(t: number): S | undefined {
    return this.open[t];
  }

  /** `t`, which has no open span, opens `s`. */
  start(t: number, s: S): void {
    setAt(this.open, t, s);
    this.count++;
  }

  /** `t` wrote the location: its span, if it had one, is closed and returned. */
  close(t: number): S | undefined {
    const s = this.open[t];
    if (s !== undefined) {
      this.open[t] = undefined;
      this.count--;
    }
    return s;
  }
}

/**
 * Whether a write completes a read-modify-write with the span's read: not when both
 * are one step (setdefault, pop), which nothing can come between.
 *
 * @internal
 */
export function completes(read: { readonly step: number }, write: { readonly step: number }): boolean {
  return read.step < write.step;
}

/** `a[i] = v`, filling the gap below `i` so the array stays packed. @internal */
export function setAt<T>(a: (T | undefined)[], i: number, v: T): void {
  while (a.length < i) a.push(undefined);
  a[i] = v;
}
