-- One node keeps its live connections online, then anyone's expired connections are purged.
-- Expired entries already do not count (online = ZCOUNT users now..+inf); the purge only settles
-- per-user counts, watch time and the by-country figures of a crashed node's users.
-- KEYS[1]  conns ZSET     KEYS[2] conn_user HASH   KEYS[3] users ZSET   KEYS[4] user_conns HASH
-- KEYS[5]  since HASH     KEYS[6] totals HASH      KEYS[7] watch_time HASH
-- KEYS[8]  online_by HASH KEYS[9] people HASH
-- ARGV[1]  now (unix s)   ARGV[2] presence TTL (s)  ARGV[3] purge limit   ARGV[4..] conn ids to refresh
-- returns  {purged count, conn ids that were not there (the caller re-adds them)...}
--#include lib_presence_leave
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local expires = now + ttl
local missing = {}
for i = 4, #ARGV do
  local conn = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], conn) then
    redis.call('ZADD', KEYS[1], expires, conn)
    local user = redis.call('HGET', KEYS[2], conn)
    if user then redis.call('ZADD', KEYS[3], 'GT', expires, user) end
  else
    missing[#missing + 1] = conn
  end
end
local function leave(user, at)
  local live = redis.call('HINCRBY', KEYS[4], user, -1)
  if live > 0 then return end
  redis.call('HDEL', KEYS[4], user)
  -- a user refreshed by another node's connection keeps a later score; only drop a stale one
  local score = tonumber(redis.call('ZSCORE', KEYS[3], user))
  if score and score <= now then redis.call('ZREM', KEYS[3], user) end
  user_left(KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], user, at)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local purged = 0
for i = 1, #expired, 2 do
  local conn = expired[i]
  local user = redis.call('HGET', KEYS[2], conn)
  redis.call('ZREM', KEYS[1], conn)
  redis.call('HDEL', KEYS[2], conn)
  if user then leave(user, tonumber(expired[i + 1]) - ttl) end
  purged = purged + 1
end
-- users whose connection hash entry was lost still leave by score
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
local result = {purged}
for _, conn in ipairs(missing) do result[#result + 1] = conn end
return result
