/**
 * What the native addon (`native/sysv.cc`) exports: thin wrappers over the SysV IPC calls.
 * Every function throws a Node-style system error (`code`, `errno`, `syscall`) on failure,
 * except where a result value is documented for an expected case.
 */
export interface SysVAddon {
  /** `ftok(3)`: the IPC key derived from a file's inode and device plus `projectId` (1–255). */
  ftok(path: string, projectId: number): number
  /** `semget` with `IPC_CREAT`: the id of the semaphore set for `key`, created zeroed when absent. */
  semOpen(key: number, count: number, mode: number): number
  /** Takes semaphore `index` as a lock (wait for 0, then +1, with `SEM_UNDO`); `false` after `timeoutMs` ms. */
  semLock(semid: number, index: number, timeoutMs: number): boolean
  /** Gives back a lock taken with `semLock`. */
  semUnlock(semid: number, index: number): void
  /** Current value of semaphore `index`: 1 while a process holds the lock, 0 when free. */
  semValue(semid: number, index: number): number
  /** `semctl(IPC_STAT)`: owner, creator and permissions of the set. */
  semStat(semid: number): SemaphoreStat
  /** Removes the semaphore set at once (`IPC_RMID`). */
  semRemove(semid: number): void
  /** `shmget` with `IPC_CREAT | IPC_EXCL`: the new segment's id, or -1 when `key` is taken. */
  shmCreate(key: number, bytes: number, mode: number): number
  /** `shmget` of an existing segment: its id, or -1 when none has `key`. */
  shmOpen(key: number): number
  /** `shmat`: an external ArrayBuffer over the whole segment; its memory is shared, not copied. */
  shmAttach(shmid: number): ArrayBuffer
  /** Detaches the ArrayBuffer (its views become empty) and then the memory (`shmdt`). */
  shmDetach(buffer: ArrayBuffer): void
  /** `shmctl(IPC_STAT)`: size, attach count, pids, permissions. */
  shmStat(shmid: number): SegmentStat
  /** `shmctl(IPC_RMID)`: the segment goes once the last process detaches. */
  shmRemove(shmid: number): void
}

/** The kernel's view of a segment (`shmctl(IPC_STAT)`). */
export interface SegmentStat {
  /** Size in bytes. */
  readonly size: number
  /** How many attachments exist, across every process. */
  readonly attached: number
  /** Pid of the creator. */
  readonly creatorPid: number
  /** Pid of the last process to attach or detach. */
  readonly lastPid: number
  /** Permission bits, e.g. `0o600`. */
  readonly mode: number
  /** Owner uid. */
  readonly uid: number
  /** Owner gid. */
  readonly gid: number
  /** Uid of the creator, which keeps owner rights whatever the owner is changed to. */
  readonly creatorUid: number
}

/** The kernel's view of a semaphore set (`semctl(IPC_STAT)`). */
export interface SemaphoreStat {
  /** Semaphores in the set. */
  readonly count: number
  /** Permission bits, e.g. `0o600`. */
  readonly mode: number
  /** Owner uid. */
  readonly uid: number
  /** Owner gid. */
  readonly gid: number
  /** Uid of the creator, which keeps owner rights whatever the owner is changed to. */
  readonly creatorUid: number
}
