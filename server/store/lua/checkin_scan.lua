-- One badge scan at a door: entries are exact (a set), so ten scans of one badge check in once.
-- KEYS[1]  checkin SET (attendee ids ever checked in)   KEYS[2] in_hall SET (in the hall now)
-- KEYS[3]  checkin log STREAM                          KEYS[4] registrants HASH id -> JSON
-- KEYS[5]  reached SET                                 KEYS[6] peaks HASH
-- KEYS[7]  segment_marks HASH                          KEYS[8] in_person SET of the live segment
-- ARGV[1]  attendee id   ARGV[2] "in" | "out"   ARGV[3] gate   ARGV[4] now (unix s)
-- ARGV[5]  registrant JSON (kept if none is stored)   ARGV[6] live segment id or ""
-- ARGV[7]  key TTL (s)   ARGV[8] who scanned
-- KEYS[9]  segment_now HASH {id}: the segment really on; ARGV[6] is the node's cached guess
-- returns  {first check-in 0|1, moved 0|1 (entered or left now), in hall now}, or {-1, segment id}
--          when the guess is stale: nothing was written, and the caller retries with that segment
local id, dir, seg = ARGV[1], ARGV[2], ARGV[6]
local actual = redis.call('HGET', KEYS[9], 'id') or ''
if actual ~= seg then
  return {-1, actual}
end
local first, moved = 0, 0
if dir == 'in' then
  first = redis.call('SADD', KEYS[1], id)
  moved = redis.call('SADD', KEYS[2], id)
  redis.call('SADD', KEYS[5], id)
  redis.call('HSETNX', KEYS[4], id, ARGV[5])
  if seg ~= '' then redis.call('SADD', KEYS[8], id) end
else
  moved = redis.call('SREM', KEYS[2], id)
end
local hall = redis.call('SCARD', KEYS[2])
if hall > (tonumber(redis.call('HGET', KEYS[6], 'in_person')) or 0) then
  redis.call('HSET', KEYS[6], 'in_person', hall, 'in_person_at', ARGV[4])
end
if seg ~= '' and hall > (tonumber(redis.call('HGET', KEYS[7], seg .. ':peak_in_person')) or 0) then
  redis.call('HSET', KEYS[7], seg .. ':peak_in_person', hall)
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'id', id, 'dir', dir, 'gate', ARGV[3],
  'at', ARGV[4], 'by', ARGV[8], 'first', first, 'moved', moved)
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return {first, moved, hall}
