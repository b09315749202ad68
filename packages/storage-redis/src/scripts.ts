import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

/** A Lua script with its SHA1, as EVALSHA wants it. */
export interface LuaScript {
  readonly name: string
  readonly source: string
  readonly sha: string
}

/** A script as it is written; `timed` ones start with the server's time in `now` (epoch ms). */
export function luaScript(name: string, body: string, timed = true): LuaScript {
  // Server time, not the client's: instances with skewed clocks agree on every window and
  // lease expiry. Scripts are replicated by effects (Redis >= 5), so TIME is allowed here.
  const source = timed
    ? `local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n${body}`
    : body
  return { name, source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * EVALSHA, and on NOSCRIPT (a restarted or failed-over server, `SCRIPT FLUSH`) EVAL, which
 * also loads the script again. The one place that knows this dance, for the storage and the lock.
 */
export function evalScript(client: Redis | Cluster, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  return client.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) => {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(script.source, keys.length, ...keys, ...args)
    throw error
  })
}

// The largest count kept (2^53 - 1); sums saturate there, as the kit's MAX_COUNT says.
const COUNT_HELPERS = `
local MAX = 9007199254740991
local function count(v)
  local n = tonumber(v)
  if n == nil or n ~= n or n < 0 then return 0 end
  if n > MAX then return MAX end
  return math.floor(n)
end
`

/**
 * Everything queued in one tick, in one trip. KEYS: one key per operation. ARGV[1]: bucketMs;
 * then per operation its kind and arguments:
 * - `r` (KEYS[k] is a status hash): answers `ok, s, o, e, u, b, h` (absent fields are nil);
 * - `c addF addS keepMs n w1..wn` (KEYS[k] is a counter hash): adds to the current bucket,
 *   answers `ok, f1, s1, …, fn, sn` summed over each window `w` (ms), as decimal strings.
 * `ok` is 1, or the error text of that one operation (a key of the wrong type, say), so one bad
 * key fails only its own circuit. Old buckets are trimmed and the key's expiry pushed past
 * `keepMs` when a write opens a new bucket (once per bucket, not once per call); a stored count
 * that is not a number counts as 0.
 */
export const BATCH = luaScript(
  'batch',
  `${COUNT_HELPERS}
local bucket = tonumber(ARGV[1])
local idx = math.floor(now / bucket)
local out = {}
local a = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  if ARGV[a] == 'r' then
    a = a + 1
    local st = redis.pcall('HMGET', key, 's', 'o', 'e', 'u', 'b', 'h')
    if st.err then
      out[#out + 1] = st.err
      for i = 1, 6 do out[#out + 1] = false end
    else
      out[#out + 1] = 1
      for i = 1, 6 do out[#out + 1] = st[i] end
    end
  else
    local addF, addS, keepMs, n = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
    local windows = {}
    for i = 1, n do windows[i] = tonumber(ARGV[a + 4 + i]) end
    a = a + 5 + n
    local err = nil
    local fresh = false
    if addF > 0 then
      local v = redis.pcall('HINCRBY', key, 'f' .. idx, addF)
      if type(v) == 'table' then err = v.err elseif v == addF then fresh = true end
    end
    if err == nil and addS > 0 then
      local v = redis.pcall('HINCRBY', key, 's' .. idx, addS)
      if type(v) == 'table' then err = v.err elseif v == addS then fresh = true end
    end
    -- Trimming costs a walk of the hash: a summing write pays it on each new bucket; a bare
    -- increment only once the hash holds 3 times what its retention explains (amortized O(1)).
    local trim = false
    if err == nil and fresh then
      trim = n > 0 or redis.call('HLEN', key) > 3 * (math.ceil(keepMs / bucket) + 1)
    end
    local all = {}
    if err == nil and (n > 0 or trim) then
      all = redis.pcall('HGETALL', key)
      if all.err then err = all.err; all = {} end
    end
    if err ~= nil then
      out[#out + 1] = err
      for i = 1, 2 * n do out[#out + 1] = 0 end
    else
      local keep = idx - math.ceil(keepMs / bucket) + 1
      local f, s = {}, {}
      for i = 1, n do f[i] = 0; s[i] = 0 end
      for j = 1, #all, 2 do
        local field = all[j]
        local b = tonumber(string.sub(field, 2))
        if b == nil or b < keep then
          if trim then redis.call('HDEL', key, field) end
        else
          local v = count(all[j + 1])
          local isF = string.byte(field, 1) == 102
          for i = 1, n do
            if b <= idx and b > idx - math.ceil(windows[i] / bucket) then
              if isF then f[i] = math.min(MAX, f[i] + v) else s[i] = math.min(MAX, s[i] + v) end
            end
          end
        end
      end
      -- Every new bucket pushes the expiry forward, so an idle circuit's counters vanish.
      if fresh then redis.call('PEXPIRE', key, keepMs + bucket) end
      out[#out + 1] = 1
      -- As decimal strings: Redis turns a Lua number of 2^53 - 1 into the integer reply
      -- 9007199254740992 (not a safe integer), so a saturated sum would read as corrupt.
      for i = 1, n do out[#out + 1] = string.format('%.0f', f[i]); out[#out + 1] = string.format('%.0f', s[i]) end
    end
  end
end
return out
`,
)

// The epoch of a stored status hash as the JavaScript decoder would read it: a hash that is not a
// valid status is corrupt, read as absent, so its epoch is 0 here too — otherwise a circuit that
// reads "absent" could never win the compare-and-set that replaces the corrupt record.
const STORED_EPOCH = `
local function isCount(v)
  if type(v) ~= 'string' or not (v == '0' or string.match(v, '^[1-9]%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?%d?$')) then return false end
  return tonumber(v) <= 9007199254740991
end
local function storedEpoch(key)
  local st = redis.call('HMGET', key, 's', 'o', 'e', 'u', 'b', 'h')
  local s, o, e, u = st[1], st[2], st[3], st[4]
  if s ~= 'closed' and s ~= 'open' and s ~= 'half_open' then return 0 end
  if not isCount(e) then return 0 end
  local epoch = tonumber(e)
  -- The optional counters: absent (false) or '' is 0; anything else must be a count.
  for i = 5, 6 do
    if st[i] ~= false and st[i] ~= '' and not isCount(st[i]) then return 0 end
  end
  local decimal = '^%d+%.?%d*$'
  if type(u) ~= 'string' or not string.match(u, decimal) or tonumber(u) > 8640000000000000 then return 0 end
  if o == false or o == '' then
    if s ~= 'closed' then return 0 end
  elseif not string.match(o, decimal) or tonumber(o) > 8640000000000000 then
    return 0
  end
  return epoch
end
`

// Writes the six status arguments from ARGV[a] on: s, o, e, u always; the optional counters b
// (backoff) and h (holds) when non-empty, and deletes them when empty, so a record without them
// never inherits the previous record's (a hash from before they existed simply lacks them).
const WRITE_STATUS = `
local function writeStatus(key, a)
  local set = { 's', ARGV[a], 'o', ARGV[a + 1], 'e', ARGV[a + 2], 'u', ARGV[a + 3] }
  local gone = {}
  for i, f in ipairs({ 'b', 'h' }) do
    local v = ARGV[a + 3 + i]
    if v == '' then gone[#gone + 1] = f else set[#set + 1] = f; set[#set + 1] = v end
  end
  redis.call('HSET', key, unpack(set))
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
end
`

/** KEYS: status. ARGV: status, openedAt ('' = null), epoch, updatedAt, backoff, holds ('' = 0), channel, payload. */
export const SET_STATUS = luaScript(
  'setStatus',
  `${WRITE_STATUS}
writeStatus(KEYS[1], 1)
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1
`,
  false,
)

/**
 * KEYS: status. ARGV: expectedEpoch, status, openedAt, epoch, updatedAt, backoff, holds, channel,
 * payload. Writes only when the stored epoch (0 when absent or corrupt) equals the expectation;
 * Redis runs one script at a time, so of racing writers exactly one sees its expectation met.
 * Answers 1 or 0.
 */
export const CAS_STATUS = luaScript(
  'compareAndSetStatus',
  `${STORED_EPOCH}${WRITE_STATUS}
if storedEpoch(KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
writeStatus(KEYS[1], 2)
redis.call('PUBLISH', ARGV[8], ARGV[9])
return 1
`,
  false,
)

/**
 * KEYS: leases. ARGV: max, ttlMs, lease id. Drops lapsed leases, then grants one when fewer
 * than `max` remain. Answers `{ 1, expiresAt }` or `{ 0, now }`.
 */
export const ACQUIRE_PROBE = luaScript(
  'acquireProbe',
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
export const CLEAR = luaScript(
  'clear',
  `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`,
  false,
)
