-- Append one chat message once per (user, client message id), count it, and push it to the
-- room's topic, atomically: a node dying half-way cannot store a message nobody is shown.
-- KEYS[1]  room STREAM (field d = message JSON without its id)
-- KEYS[2]  dedupe STRING for (user, client message id) -> stream id of the first append
-- KEYS[3]  stats HASH (chat, chat:<segment>)
-- KEYS[4]  per-user stats HASH (<user>:chat)
-- KEYS[5]  room topic meta HASH, KEYS[6] room topic history STREAM (see lib_publish)
-- ARGV[1]  message JSON
-- ARGV[2]  stream size (approximate MAXLEN)
-- ARGV[3]  TTL of the stream and the stats, seconds
-- ARGV[4]  TTL of the dedupe key, seconds
-- ARGV[5]  counter name ("chat"; empty: do not count, e.g. announcements)
-- ARGV[6]  segment id the message was sent in (empty: none)
-- ARGV[7]  user id
-- ARGV[8 .. 12]  topic, history size, topic TTL, bus channel, epoch (Bus.publish_keys)
-- returns  {1 appended | 0 duplicate, stream id}
--#include lib_publish
local first = redis.call('GET', KEYS[2])
if first then
  return {0, first}
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'd', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], id, 'EX', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  if ARGV[6] ~= '' then
    redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':' .. ARGV[6], 1)
  end
  redis.call('HINCRBY', KEYS[4], ARGV[7] .. ':' .. ARGV[5], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[3])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
local message = cjson.decode(ARGV[1])
message['id'] = id
publish(KEYS[5], KEYS[6], ARGV[8], '{"kind":"message","message":' .. cjson.encode(message) .. '}',
  ARGV[9], ARGV[10], ARGV[11], ARGV[12])
return {1, id}
