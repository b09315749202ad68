/** A hand-moved epoch-ms clock. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start
  const clock = () => now
  clock.advance = (ms: number) => {
    now += ms
  }
  clock.set = (at: number) => {
    now = at
  }
  return clock
}
export type ManualClock = ReturnType<typeof manualClock>
