// Connection to the real MongoDB named by MONGO_URL, shared by the real-server test files.
// Without MONGO_URL nothing connects and those tests are registered as skipped, saying why.
import { randomBytes } from 'node:crypto'
import { MongoClient } from 'mongodb'
import type { Db } from 'mongodb'

/** The server to test against, if any. */
export const MONGO_URL = process.env['MONGO_URL']

/** Shown in the skipped tests' titles and printed once per file. */
export const SKIP_REASON = 'skipped: MONGO_URL is not set (no MongoDB server can be installed on this machine)'

/** How users start a server for these tests (also in the README). */
export const DOCKER_HINT =
  'docker run -d --rm -p 27017:27017 --name breaker-mongo mongo:8 --replSet rs0 && sleep 5 && ' +
  `docker exec breaker-mongo mongosh --quiet --eval "rs.initiate({_id:'rs0',members:[{_id:0,host:'127.0.0.1:27017'}]})" && sleep 3 && ` +
  "pnpm --filter @breaker/core --filter @breaker/storage-mongo build && " +
  "MONGO_URL='mongodb://127.0.0.1:27017/?directConnection=true' pnpm exec vitest run --project storage-mongo"

/** A fresh, unguessable database name, dropped after the file's tests. */
export function testDatabaseName(label: string): string {
  return `breaker_test_${label}_${randomBytes(4).toString('hex')}`
}

/** A short unique collection prefix, so each test's storage starts empty. */
export function freshPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`
}

/** Connects when MONGO_URL is set; otherwise prints why the real-server tests are skipped. */
export async function connectIfConfigured(file: string, label: string): Promise<{ client: MongoClient; db: Db } | undefined> {
  if (MONGO_URL === undefined || MONGO_URL === '') {
    console.log(`[@breaker/storage-mongo] ${file}: real-server tests ${SKIP_REASON}. To run them: ${DOCKER_HINT}`)
    return undefined
  }
  // A short server selection timeout: a wrong MONGO_URL fails in seconds instead of hanging.
  const client = await new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5_000 }).connect()
  return { client, db: client.db(testDatabaseName(label)) }
}
