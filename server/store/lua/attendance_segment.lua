-- The live segment changed: close the old one's marks and open the new one's, exactly once.
-- KEYS[1]  segment_now HASH {id, started_at}   KEYS[2] users ZSET (online)   KEYS[3] in_hall SET
-- KEYS[4]  segment_marks HASH                  KEYS[5] viewers SET of the new segment
-- KEYS[6]  in_person SET of the new segment
-- ARGV[1]  new segment id or ""   ARGV[2] now (unix s)   ARGV[3] key TTL (s)
-- returns  1 when the segment changed, 0 when it was already recorded
local new, now = ARGV[1], ARGV[2]
local old = redis.call('HGET', KEYS[1], 'id') or ''
if old == new then return 0 end
local online = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
local hall = redis.call('SCARD', KEYS[3])
if old ~= '' then
  redis.call('HSET', KEYS[4], old .. ':ended_at', now, old .. ':end_online', online, old .. ':end_in_person', hall)
end
if new ~= '' then
  -- a segment entered again (moderator went back) keeps its first start and adds viewers
  redis.call('HSETNX', KEYS[4], new .. ':started_at', now)
  redis.call('HSETNX', KEYS[4], new .. ':start_online', online)
  redis.call('HSETNX', KEYS[4], new .. ':start_in_person', hall)
  redis.call('HDEL', KEYS[4], new .. ':ended_at', new .. ':end_online', new .. ':end_in_person')
  if online > (tonumber(redis.call('HGET', KEYS[4], new .. ':peak_online')) or 0) then
    redis.call('HSET', KEYS[4], new .. ':peak_online', online)
  end
  if hall > (tonumber(redis.call('HGET', KEYS[4], new .. ':peak_in_person')) or 0) then
    redis.call('HSET', KEYS[4], new .. ':peak_in_person', hall)
  end
  local users = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
  for i = 1, #users, 500 do
    redis.call('SADD', KEYS[5], unpack(users, i, math.min(i + 499, #users)))
  end
  if hall > 0 then redis.call('SUNIONSTORE', KEYS[6], KEYS[6], KEYS[3]) end
  redis.call('EXPIRE', KEYS[5], ARGV[3])
  redis.call('EXPIRE', KEYS[6], ARGV[3])
end
redis.call('HSET', KEYS[1], 'id', new, 'started_at', now)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[3])
return 1
