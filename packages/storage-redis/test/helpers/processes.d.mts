import type { ChildProcess } from 'node:child_process'

/** A child process running a `.mjs` fixture on the built packages, talking over IPC. */
export interface Fixture<Result> {
  readonly child: ChildProcess
  /** Resolves once the fixture said it is ready (connected, circuits built). */
  readonly ready: Promise<void>
  /** Resolves with the fixture's final report; rejects if it exits without one. */
  readonly result: Promise<Result>
  send(message: unknown): void
}

export function startFixture<Result>(path: string, args: string[], limitMs?: number): Fixture<Result>
export function raceFixtures<Result>(count: number, path: string, args: (i: number) => string[]): Promise<Result[]>
