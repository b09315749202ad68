import { createHash } from 'node:crypto'

/** A Lua script with its SHA1, as EVALSHA wants it. */
export interface LuaScript {
  readonly name: string
  readonly source: string
  readonly sha: string
  readonly keys: number
}

function script(name: string, keys: number, body: string): LuaScript {
  // Server time, not the client's: instances with skewed clocks agree on every window and
  // lease expiry. Scripts are replicated by effects (Redis >= 5), so TIME is allowed here.
  const source = `local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n${body}`
  return { name, source, keys, sha: createHash('sha1').update(source).digest('hex') }
}

// Sums the bucket counters of the window and deletes buckets older than the retention.
// Buckets are `floor(now / bucketMs)`; the window covers the newest ceil(window / bucket)
// buckets, so a count never includes an outcome older than the window.
const SUM = `
local function sum(key, window, bucket, keepMs, trim)
  local idx = math.floor(now / bucket)
  local first = idx - math.ceil(window / bucket) + 1
  local keep = idx - math.ceil(math.max(keepMs, window) / bucket) + 1
  local all = redis.call('HGETALL', key)
  local f, s = 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    local b = tonumber(string.sub(field, 2))
    if b == nil or b < keep then
      if trim then redis.call('HDEL', key, field) end
    elseif b >= first and b <= idx then
      if string.byte(field, 1) == 102 then f = f + tonumber(all[i + 1]) else s = s + tonumber(all[i + 1]) end
    end
  end
  return f, s
end
`

/**
 * KEYS: counts, status. ARGV: failures to add, successes to add, windowMs, bucketMs, retentionMs.
 * Answers `{ failures, successes, now, status, openedAt, epoch, updatedAt }` — the status rides
 * along so a caller can refresh its view of the circuit in the same trip.
 */
export const RECORD = script(
  'record',
  2,
  `${SUM}
local bucket = tonumber(ARGV[4])
local idx = math.floor(now / bucket)
local addF = tonumber(ARGV[1])
local addS = tonumber(ARGV[2])
if addF > 0 then redis.call('HINCRBY', KEYS[1], 'f' .. idx, addF) end
if addS > 0 then redis.call('HINCRBY', KEYS[1], 's' .. idx, addS) end
local window = tonumber(ARGV[3])
local keepMs = math.max(tonumber(ARGV[5]), window)
local f, s = sum(KEYS[1], window, bucket, keepMs, true)
-- Every write pushes the expiry forward, so an idle circuit's counters vanish on their own.
redis.call('PEXPIRE', KEYS[1], keepMs + bucket)
local st = redis.call('HMGET', KEYS[2], 's', 'o', 'e', 'u')
return { f, s, now, st[1], st[2], st[3], st[4] }
`,
)

/**
 * KEYS: counts. ARGV: failures to add, successes to add, bucketMs, retentionMs. Counts without
 * summing: a hash field per bucket is O(1) to bump. Old buckets are trimmed only once the hash
 * holds half again as many fields as the retention can explain, so the O(fields) trim is paid
 * once per many writes, and the hash stays bounded.
 */
export const INCREMENT = script(
  'increment',
  1,
  `${SUM}
local bucket = tonumber(ARGV[3])
local keepMs = tonumber(ARGV[4])
local idx = math.floor(now / bucket)
if tonumber(ARGV[1]) > 0 then redis.call('HINCRBY', KEYS[1], 'f' .. idx, ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', KEYS[1], 's' .. idx, ARGV[2]) end
local limit = 3 * (math.ceil(keepMs / bucket) + 1)
if redis.call('HLEN', KEYS[1]) > limit then sum(KEYS[1], bucket, bucket, keepMs, true) end
redis.call('PEXPIRE', KEYS[1], keepMs + bucket)
return 1
`,
)

/** KEYS: counts. ARGV: windowMs, bucketMs. Answers `{ failures, successes, now }`; writes nothing. */
export const COUNTS = script(
  'counts',
  1,
  `${SUM}
local f, s = sum(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 0, false)
return { f, s, now }
`,
)

/** KEYS: status. ARGV: status, openedAt ('' = null), epoch, updatedAt, channel, payload. */
export const SET_STATUS = script(
  'setStatus',
  1,
  `
redis.call('HSET', KEYS[1], 's', ARGV[1], 'o', ARGV[2], 'e', ARGV[3], 'u', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`,
)

/**
 * KEYS: status. ARGV: expectedEpoch, status, openedAt, epoch, updatedAt, channel, payload.
 * Writes only when the stored epoch (0 when absent) equals the expectation; Redis runs one
 * script at a time, so of racing writers exactly one sees its expectation met.
 * Answers `{ 1 }` when written, else `{ 0, status, openedAt, epoch, updatedAt }` (the winner's record).
 */
export const CAS_STATUS = script(
  'compareAndSetStatus',
  1,
  `
local current = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if current ~= tonumber(ARGV[1]) then
  local st = redis.call('HMGET', KEYS[1], 's', 'o', 'e', 'u')
  return { 0, st[1], st[2], st[3], st[4] }
end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'o', ARGV[3], 'e', ARGV[4], 'u', ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return { 1 }
`,
)

/**
 * KEYS: leases. ARGV: max, ttlMs, lease id. Drops lapsed leases, then grants one when fewer
 * than `max` remain. Answers `{ 1, expiresAt }` or `{ 0, now }`.
 */
export const ACQUIRE_PROBE = script(
  'acquireProbe',
  1,
  `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return { 0, now } end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
-- The set itself lives as long as its longest lease, so a crashed holder leaves nothing behind.
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return { 1, now + ttl }
`,
)

/** KEYS: status, counts, leases. ARGV: channel, payload. Forgets the circuit and tells subscribers. */
export const CLEAR = script(
  'clear',
  3,
  `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`,
)

/** Every script the storage runs, for `SCRIPT LOAD` ahead of time. */
export const ALL_SCRIPTS: readonly LuaScript[] = [RECORD, INCREMENT, COUNTS, SET_STATUS, CAS_STATUS, ACQUIRE_PROBE, CLEAR]
