import type { Db } from 'mongodb'

/**
 * Asks the server once whether it can serve change streams: a replica set member answers
 * `hello` with a `setName`, a mongos with `msg: 'isdbgrid'`; a standalone server has neither.
 * Use the answer for the `changeStreams` option; MongoStorage never probes per call.
 */
export async function supportsChangeStreams(db: Db): Promise<boolean> {
  const hello = await db.command({ hello: 1 })
  return typeof hello['setName'] === 'string' || hello['msg'] === 'isdbgrid'
}
