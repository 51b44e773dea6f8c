-- Apply one agenda transition atomically: compare-and-set on version, write the state, log it,
-- and publish the new state on the agenda topic, all or nothing.
-- KEYS[1]  agenda state HASH (status, index, version, started_at, ... see server.agenda.state)
-- KEYS[2]  agenda log STREAM (who, name, role, at, action, from_*, to_*, version, detail)
-- KEYS[3]  agenda topic meta HASH, KEYS[4] agenda topic history STREAM (see lib_publish)
-- KEYS[5 .. 10]  attendance: segment_now, users, in_hall, segment_marks, viewers and in_person of
--          the new segment (see lib_segment): the figures switch segment at the click, exactly
-- ARGV[1]  the version the caller computed its new state from (what the moderator saw)
-- ARGV[2]  TTL of both keys, seconds
-- ARGV[3]  log MAXLEN (approximate)
-- ARGV[4]  n, the number of field/value pairs of the new state that follow the publish arguments
-- ARGV[5 .. 9]  topic, history size, topic TTL, bus channel, epoch (Bus.publish_keys)
-- ARGV[10] the push payload: the new state's JSON, computed for version ARGV[1] + 1
-- ARGV[11] the segment on after the transition ("" before the start and after the end)
-- ARGV[12] now, unix seconds   ARGV[13] attendance key TTL, seconds
-- ARGV[14 .. 13+2n]  field, value pairs of the new state
-- ARGV[14+2n ..]     field, value pairs of the log entry
-- returns  {1, new version} when applied, {0, current version} when the caller's version is stale
-- The version is written here, not by the caller, so two scripts can never both produce v+1.
--#include lib_publish
--#include lib_segment
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
local n = tonumber(ARGV[4])
local state = {}
for i = 14, 13 + 2 * n do
  state[#state + 1] = ARGV[i]
end
state[#state + 1] = 'version'
state[#state + 1] = tostring(current + 1)
redis.call('HSET', KEYS[1], unpack(state))
local entry = {'version', tostring(current + 1)}
for i = 14 + 2 * n, #ARGV do
  entry[#entry + 1] = ARGV[i]
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(entry))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
publish(KEYS[3], KEYS[4], ARGV[5], ARGV[10], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
segment_change(KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], ARGV[11], ARGV[12], ARGV[13])
return {1, current + 1}
