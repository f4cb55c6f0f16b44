// The balance mirror's Lua scripts (each operation one script, so no two interleave).

/**
 * The reservation check, as a fragment shared by RESERVE and the gate's script. Expects locals
 * `bkey` (the mirror), `okey` (its open holds: ZSET "<id> <amount>" scored by expiry), `ekey`
 * (ids of holds freed by expiry, scored by when, kept a day), `amount`
 * (a decimal string), `holdId`, `now`, `ttl`, and a declared `bal`, which it sets to: status
 * (1 fits, 0 insufficient, -1 no mirror), available, then the mirror as stored (credits, spent,
 * reserved, watermark): what a failover store needs to start a local mirror without Postgres.
 * Frees up to 50 expired holds first (never settled: a lost reply, a crashed instance), so a
 * leak heals on the org's next request; each freed id is remembered in `ekey`, so a settlement
 * that still arrives (a request that outlived its hold) charges instead of being lost.
 */
export const BALANCE_RESERVE_CHECK = `
if redis.call('EXISTS', bkey) == 0 then
  bal = {-1, 0}
else
  local stale = redis.call('ZRANGEBYSCORE', okey, '-inf', now, 'LIMIT', 0, 50)
  if #stale > 0 then redis.call('ZREMRANGEBYSCORE', ekey, '-inf', now - 86400000) end
  for _, m in ipairs(stale) do
    local id, amt = string.match(m, '^(%S+) (%d+)$')
    if amt then
      redis.call('HINCRBY', bkey, 'reserved', '-' .. amt)
      redis.call('ZADD', ekey, now, id)
    end
    redis.call('ZREM', okey, m)
  end
  local v = redis.call('HMGET', bkey, 'credits', 'spent', 'reserved', 'wm')
  local available = tonumber(v[1]) - tonumber(v[2]) - tonumber(v[3])
  if available >= tonumber(amount) then
    bal = {1, available - tonumber(amount), v[1], v[2], v[3], v[4] or '0'}
  else
    bal = {0, available, v[1], v[2], v[3], v[4] or '0'}
  end
end
`;

/** Takes the hold `bal` said fits; `bal[5]` becomes the reserved total after it. */
export const BALANCE_RESERVE_APPLY = `
bal[5] = tostring(redis.call('HINCRBY', bkey, 'reserved', amount))
redis.call('ZADD', okey, now + ttl, holdId .. ' ' .. amount)
`;

// KEYS: the mirror, its open holds, its expired holds. ARGV: amount, hold id, now, ttlMs.
export const RESERVE = `
local bkey, okey, ekey = KEYS[1], KEYS[2], KEYS[3]
local amount, holdId, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local bal
${BALANCE_RESERVE_CHECK}
if bal[1] == 1 then
${BALANCE_RESERVE_APPLY}
end
return bal
`;

// KEYS: the mirror, its open reservations, charges applied without a reservation (ZSET of ids),
// holds freed by expiry (ZSET of ids). ARGV: reserved, charge (0 = plain release), reservation
// id, now. Applies once per reservation: a replayed settlement (its first reply was lost) changes
// nothing. One whose hold expired first (its request outlived the hold) still charges, once: the
// hold's amount was already freed, so only the charge is applied (the org may go that far below
// zero, as the ledger will). reserved 0 is a charge made against a local mirror during an outage,
// applied once per id (ids remembered for a day).
export const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local r = tonumber(ARGV[1])
local charge = tonumber(ARGV[2])
if r ~= 0 then
  if redis.call('ZREM', KEYS[2], ARGV[3] .. ' ' .. ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[1], 'reserved', -r)
  elseif redis.call('ZREM', KEYS[4], ARGV[3]) == 0 then
    return 0
  end
else
  if charge <= 0 then return 0 end
  local now = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 86400000)
  if redis.call('ZADD', KEYS[3], 'NX', now, ARGV[3]) == 0 then return 0 end
end
if charge > 0 then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2]) end
return 1
`;
export const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'credits', ARGV[1], 'spent', ARGV[2], 'reserved', 0, 'wm', ARGV[3])
return 1
`;
export const SET_CREDITS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'wm') or '0') > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'credits', ARGV[1], 'wm', ARGV[2])
return 1
`;
