/** Reads every check of a decision into `checks`; sets `refused` / `retry` (changes nothing). */
export const ADMIT_CHECK = `
local now = tonumber(ARGV[1])
local dry = ARGV[2] == '1'
local lease = ARGV[3]
local spec = {}
for w in string.gmatch(ARGV[4], '%S+') do spec[#spec + 1] = w end
local n = #spec / 5
local checks = {}
local ki = 1
local ai = 1
local refused = 0
local retry = 0
for i = 1, n do
  local c = { kind = spec[ai], limit = tonumber(spec[ai + 1]), cost = tonumber(spec[ai + 2]),
    p1 = tonumber(spec[ai + 3]), p2 = tonumber(spec[ai + 4]) }
  ai = ai + 5
  local need = c.cost
  if need < 1 then need = 1 end
  if c.kind == 'window' then
    c.cur = KEYS[ki]; c.prev = KEYS[ki + 1]; ki = ki + 2
    local w = c.p1
    local elapsed = now % w
    local cur = tonumber(redis.call('GET', c.cur) or '0')
    local prev = tonumber(redis.call('GET', c.prev) or '0')
    c.curv = cur; c.prevv = prev
    c.est = prev * (w - elapsed) / w + cur
    c.ok = c.est + need <= c.limit
    c.reset = now - elapsed + w
    if not c.ok then
      local t = c.limit - need
      if t < 0 then
        c.retry = 2 * w
      elseif cur <= t then
        c.retry = math.ceil(w - (t - cur) * w / prev - elapsed)
      else
        c.retry = math.ceil((w - elapsed) + (w - t * w / cur))
      end
      if c.retry < 1 then c.retry = 1 end
    end
  elseif c.kind == 'period' then
    c.key = KEYS[ki]; ki = ki + 1
    c.v = tonumber(redis.call('GET', c.key) or '0')
    c.est = c.v
    c.ok = c.v + need <= c.limit
    c.reset = c.p1 + c.p2
    if not c.ok then c.retry = c.reset - now; if c.retry < 1 then c.retry = 1 end end
  else
    c.key = KEYS[ki]; ki = ki + 1
    local held = redis.call('ZCOUNT', c.key, '(' .. now, '+inf')
    c.est = held
    c.ok = held + 1 <= c.limit
    local first = redis.call('ZRANGEBYSCORE', c.key, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if first[2] then c.reset = tonumber(first[2]) else c.reset = now end
    if not c.ok then c.retry = 1000 end
  end
  if (not c.ok) and refused == 0 then refused = i; retry = c.retry end
  checks[i] = c
end
`;

/** Counts every check when `apply` is true, and builds the reply (`out`) in either case. */
export const ADMIT_APPLY = `
local out = { refused == 0 and 1 or 0, refused, retry }
for i = 1, n do
  local c = checks[i]
  local used = c.est
  if apply then
    if c.kind == 'window' then
      if c.cost > 0 then
        redis.call('INCRBY', c.cur, c.cost)
        redis.call('PEXPIRE', c.cur, 2 * c.p1)
      end
      used = c.est + c.cost
    elseif c.kind == 'period' then
      redis.call('INCRBY', c.key, c.cost)
      redis.call('PEXPIRE', c.key, c.p2 + 86400000)
      used = c.est + c.cost
    else
      redis.call('ZREMRANGEBYSCORE', c.key, '-inf', now)
      redis.call('ZADD', c.key, now + c.p1, lease)
      -- Relative expiry (the clock in ARGV may be injected): the set outlives its longest lease.
      if redis.call('PTTL', c.key) < c.p1 + 1000 then redis.call('PEXPIRE', c.key, c.p1 + 1000) end
      used = c.est + 1
      if c.reset == now then c.reset = now + c.p1 end
    end
  end
  used = math.ceil(used)
  local remaining = c.limit - used
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = used
  out[#out + 1] = remaining
  out[#out + 1] = c.reset
end
`;

/**
 * One decision = one script run: read every counter, refuse if any check fails (nothing is
 * counted), otherwise count all of them. KEYS are declared per check and share one hash tag, so
 * the script is valid on Redis Cluster. The arithmetic mirrors `memory-limiter.ts` line by line;
 * the shared test suite holds the two to the same answers.
 *
 * ARGV: now, dryRun (0|1), lease, then the checks as one space-separated string (one argument
 * instead of five per check: the client encodes far less per decision), per check:
 *   kind limit cost p1 p2
 *   window:      p1 = windowMs            KEYS: current cell, previous cell
 *   period:      p1 = periodStartMs, p2 = periodMs   KEYS: counter
 *   concurrency: p1 = ttlMs               KEYS: lease zset
 * Returns: allowed, refusedIndex (1-based, 0 = none), retryAfterMs, then per check
 *   used, remaining, resetAtMs.
 */
export const ADMIT_LUA = `${ADMIT_CHECK}
local apply = refused == 0 and not dry
${ADMIT_APPLY}
return out
`;

/**
 * The end of a request in one script: free its lease, add its tokens.
 * KEYS: lease set, then one window cell per add. ARGV: lease ('' = none), then amount, windowMs
 * per cell.
 */
export const FINISH_LUA = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[2 * i - 2])
  redis.call('PEXPIRE', KEYS[i], 2 * tonumber(ARGV[2 * i - 1]))
end
return 1
`;

/**
 * Undo an admission: free its lease, take back what it counted without taking a counter below
 * zero (an expired counter stays gone). KEYS: lease set, then the counters. ARGV: lease ('' =
 * none), then one amount per counter.
 */
export const REFUND_LUA = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  if v > 0 then redis.call('DECRBY', KEYS[i], math.min(v, tonumber(ARGV[i]))) end
end
return 1
`;
