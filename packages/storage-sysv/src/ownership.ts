import { readFileSync } from 'node:fs'

/** Owner, creator and permission bits of a segment or semaphore set, as `IPC_STAT` reports them. */
export interface IpcPermissions {
  readonly uid: number
  readonly creatorUid: number
  readonly mode: number
}

/** What the checked object is called in messages, and the command that removes it. */
export interface IpcObject {
  /** E.g. `segment 0x4200c0fc (ftok of "/run/app", projectId 66), shmid 32808`. */
  readonly what: string
  /** E.g. `ipcrm -m 32808`. */
  readonly remove: string
}

/**
 * Why an existing segment or semaphore set must not be used, or `null` when it may.
 *
 * SysV objects are found by key alone, so another local user can create one first, on the key
 * this storage will use, with a mode that lets them in (0666): they could then rewrite circuit
 * status for this service or hold its semaphore forever. So an object is used only when both its
 * owner and its creator (who keeps owner rights after an owner change) are this process's user
 * or `owner`, and its mode grants nothing beyond `mode`, the mode this process would have
 * created it with.
 */
export function ipcPermissionProblem(stat: IpcPermissions, owner: number, mode: number, object: IpcObject): string | null {
  const fix = `Remove it (as its owner or root: \`${object.remove}\`) or choose another path or projectId.`
  const self = process.geteuid?.() ?? owner
  const trusted = (uid: number) => uid === self || uid === owner
  if (!trusted(stat.uid) || !trusted(stat.creatorUid)) {
    const creator = stat.creatorUid === stat.uid ? '' : `, created by ${userLabel(stat.creatorUid)}`
    return (
      `${object.what} belongs to ${userLabel(stat.uid)}${creator}, not to ${userLabel(self)} who runs this storage${owner === self ? '' : ` nor to the trusted owner ${userLabel(owner)}`}: ` +
      `another user may have created it to read or steer these circuits, so it is not used. ${fix} ` +
      'To share a segment with processes of another user on purpose, pass that user as `owner`.'
    )
  }
  if ((stat.mode & ~mode) !== 0) {
    return (
      `${object.what} has mode ${octal(stat.mode)}, wider than the ${octal(mode)} asked: ` +
      `users it was not meant for can read and write it, so it is not used. ${fix} ` +
      `If ${octal(stat.mode)} is intended, pass \`mode: ${octal(stat.mode)}\`.`
    )
  }
  return null
}

/** `0o600`-style rendering of permission bits. */
export function octal(mode: number): string {
  return `0o${mode.toString(8).padStart(3, '0')}`
}

/** `uid 1001 (deploy)`, or `uid 1001` when the name cannot be found. Only used on error paths. */
export function userLabel(uid: number): string {
  try {
    // /etc/passwd covers local users, which are the ones that share a host's IPC namespace.
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':')
      if (name && id === String(uid)) return `uid ${uid} (${name})`
    }
  } catch {
    // No passwd file (some containers): the number alone still identifies the user.
  }
  return `uid ${uid}`
}
