-- Count one audience connection as online; the first live connection of a user brings them online.
-- KEYS[1]  conns ZSET conn id -> expires_at
-- KEYS[2]  conn_user HASH conn id -> user id
-- KEYS[3]  users ZSET user id -> expires_at (max over the user's connections)
-- KEYS[4]  user_conns HASH user id -> live connection count
-- KEYS[5]  unique_online SET (exact unique viewers)
-- KEYS[6]  reached SET (online or in person)
-- KEYS[7]  people HASH user id -> profile JSON {name, role, country, organisation}
-- KEYS[8]  since HASH user id -> start of the current online stretch
-- KEYS[9]  totals HASH {watch_total, since_sum, since_n}
-- KEYS[10] online_by HASH "country:x" / "organisation:x" -> users online now
-- KEYS[11] unique_by HASH same fields -> distinct users ever online
-- KEYS[12] peaks HASH {online, online_at, in_person, in_person_at}
-- KEYS[13] segment_marks HASH "<segment>:<mark>" -> value
-- KEYS[14] viewers SET of the live segment (any key of the event when ARGV[7] is "")
-- ARGV[1]  conn id      ARGV[2] user id     ARGV[3] now (unix s)   ARGV[4] presence TTL (s)
-- ARGV[5]  key TTL (s)  ARGV[6] profile JSON  ARGV[7] live segment id or ""
-- ARGV[8]  country or ""  ARGV[9] organisation or ""
-- KEYS[15] segment_now HASH {id}: the segment really on; ARGV[7] is the node's cached guess
-- returns  {added 0|1, online now}, or {-1, segment id} when the guess is stale: nothing was
--          written, and the caller retries with that segment's key
local conn, user, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local expires = now + ttl
local seg = ARGV[7]
local actual = redis.call('HGET', KEYS[15], 'id') or ''
if actual ~= seg then
  return {-1, actual}
end
if redis.call('ZSCORE', KEYS[1], conn) then
  redis.call('ZADD', KEYS[1], expires, conn)
  redis.call('ZADD', KEYS[3], 'GT', expires, user)
  return {0, redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[3], '+inf')}
end
redis.call('ZADD', KEYS[1], expires, conn)
redis.call('HSET', KEYS[2], conn, user)
local live = redis.call('HINCRBY', KEYS[4], user, 1)
redis.call('ZADD', KEYS[3], 'GT', expires, user)
redis.call('HSET', KEYS[7], user, ARGV[6])
local groups = {}
if ARGV[8] ~= '' then groups[#groups + 1] = 'country:' .. ARGV[8] end
if ARGV[9] ~= '' then groups[#groups + 1] = 'organisation:' .. ARGV[9] end
if live == 1 then
  redis.call('HSET', KEYS[8], user, ARGV[3])
  redis.call('HINCRBYFLOAT', KEYS[9], 'since_sum', ARGV[3])
  redis.call('HINCRBY', KEYS[9], 'since_n', 1)
  for _, g in ipairs(groups) do redis.call('HINCRBY', KEYS[10], g, 1) end
end
if redis.call('SADD', KEYS[5], user) == 1 then
  for _, g in ipairs(groups) do redis.call('HINCRBY', KEYS[11], g, 1) end
end
redis.call('SADD', KEYS[6], user)
local online = redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[3], '+inf')
if online > (tonumber(redis.call('HGET', KEYS[12], 'online')) or 0) then
  redis.call('HSET', KEYS[12], 'online', online, 'online_at', ARGV[3])
end
if seg ~= '' then
  redis.call('SADD', KEYS[14], user)
  if online > (tonumber(redis.call('HGET', KEYS[13], seg .. ':peak_online')) or 0) then
    redis.call('HSET', KEYS[13], seg .. ':peak_online', online)
  end
end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
return {1, online}
