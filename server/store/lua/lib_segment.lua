-- Library, not a script: record that the live segment changed, once (marks, viewers, in hall).
-- Included by agenda_apply.lua, so the change is recorded by the transition itself, at the click,
-- and by attendance_segment.lua, the ticker's fallback (a no-op once recorded).
-- segment_change(k_now, k_users, k_hall, k_marks, k_viewers, k_in_person, new, now, ttl) -> 0|1
--   k_now       segment_now HASH {id, started_at}   k_users     presence users ZSET (online)
--   k_hall      in_hall SET                         k_marks     segment_marks HASH
--   k_viewers   viewers SET of the new segment      k_in_person in_person SET of the new segment
--   new         new segment id or ""                now         unix seconds   ttl key TTL (s)
local function segment_change(k_now, k_users, k_hall, k_marks, k_viewers, k_in_person, new, now, ttl)
  local old = redis.call('HGET', k_now, 'id') or ''
  if old == new then return 0 end
  local online = redis.call('ZCOUNT', k_users, '(' .. now, '+inf')
  local hall = redis.call('SCARD', k_hall)
  if old ~= '' then
    redis.call('HSET', k_marks, old .. ':ended_at', now, old .. ':end_online', online, old .. ':end_in_person', hall)
  end
  if new ~= '' then
    -- a segment entered again (moderator went back) keeps its first start and adds viewers
    redis.call('HSETNX', k_marks, new .. ':started_at', now)
    redis.call('HSETNX', k_marks, new .. ':start_online', online)
    redis.call('HSETNX', k_marks, new .. ':start_in_person', hall)
    redis.call('HDEL', k_marks, new .. ':ended_at', new .. ':end_online', new .. ':end_in_person')
    if online > (tonumber(redis.call('HGET', k_marks, new .. ':peak_online')) or 0) then
      redis.call('HSET', k_marks, new .. ':peak_online', online)
    end
    if hall > (tonumber(redis.call('HGET', k_marks, new .. ':peak_in_person')) or 0) then
      redis.call('HSET', k_marks, new .. ':peak_in_person', hall)
    end
    local users = redis.call('ZRANGEBYSCORE', k_users, '(' .. now, '+inf')
    for i = 1, #users, 500 do
      redis.call('SADD', k_viewers, unpack(users, i, math.min(i + 499, #users)))
    end
    if hall > 0 then redis.call('SUNIONSTORE', k_in_person, k_in_person, k_hall) end
    redis.call('EXPIRE', k_viewers, ttl)
    redis.call('EXPIRE', k_in_person, ttl)
  end
  redis.call('HSET', k_now, 'id', new, 'started_at', now)
  redis.call('EXPIRE', k_now, ttl)
  redis.call('EXPIRE', k_marks, ttl)
  return 1
end
