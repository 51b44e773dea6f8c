-- A connection closed cleanly: it stops counting at once; its user leaves with their last one.
-- KEYS[1]  conns ZSET     KEYS[2] conn_user HASH   KEYS[3] users ZSET   KEYS[4] user_conns HASH
-- KEYS[5]  since HASH     KEYS[6] totals HASH      KEYS[7] watch_time HASH user -> seconds
-- KEYS[8]  online_by HASH KEYS[9] people HASH
-- ARGV[1]  conn id        ARGV[2] now (unix s)
-- returns  {removed 0|1, user left 0|1}
local conn = ARGV[1]
local user = redis.call('HGET', KEYS[2], conn)
if not user then return {0, 0} end
redis.call('ZREM', KEYS[1], conn)
redis.call('HDEL', KEYS[2], conn)
local live = redis.call('HINCRBY', KEYS[4], user, -1)
if live > 0 then return {1, 0} end
redis.call('HDEL', KEYS[4], user)
redis.call('ZREM', KEYS[3], user)
local since = redis.call('HGET', KEYS[5], user)
if since then
  local spent = math.max(0, tonumber(ARGV[2]) - tonumber(since))
  redis.call('HINCRBYFLOAT', KEYS[7], user, spent)
  redis.call('HINCRBYFLOAT', KEYS[6], 'watch_total', spent)
  redis.call('HINCRBYFLOAT', KEYS[6], 'since_sum', -tonumber(since))
  redis.call('HINCRBY', KEYS[6], 'since_n', -1)
  redis.call('HDEL', KEYS[5], user)
end
local ok, profile = pcall(cjson.decode, redis.call('HGET', KEYS[9], user) or '{}')
if ok and type(profile) == 'table' then
  for _, field in ipairs({'country', 'organisation'}) do
    local v = profile[field]
    if type(v) == 'string' and v ~= '' then redis.call('HINCRBY', KEYS[8], field .. ':' .. v, -1) end
  end
end
return {1, 1}
