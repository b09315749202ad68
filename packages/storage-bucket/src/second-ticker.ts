/**
 * The current epoch second, kept by one process-wide timer that fires at each second boundary,
 * so recording an outcome reads no clock. A 1-second bucket needs nothing finer, and on the
 * virtual machines this was measured on one `Date.now()` costs ~70 ns: as much as the rest of
 * a circuit's closed path. The timer is unref'd (it never keeps a process alive).
 *
 * While the event loop is blocked the second can trail by as long as the block; an outcome
 * then lands in the bucket before, at most that much early to leave the window.
 */
let second = -1
let armed = false

/** The epoch second now, as of the last boundary the timer saw. */
export function currentSecond(): number {
  if (!armed) tick()
  return second
}

function tick(): void {
  const now = Date.now()
  second = Math.floor(now / 1000)
  armed = true
  // Timers never fire early, so the next tick lands at or just after the boundary.
  setTimeout(tick, 1000 - (now % 1000)).unref()
}
