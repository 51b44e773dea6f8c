-- Append one push to a topic's history and publish it on the event bus, atomically.
-- KEYS[1]  topic meta HASH {seq, epoch}
-- KEYS[2]  topic history STREAM (entry id <seq>-1, field d = payload)
-- ARGV[1]  topic name
-- ARGV[2]  payload, a JSON value
-- ARGV[3]  history size (approximate MAXLEN)
-- ARGV[4]  TTL of both keys, seconds
-- ARGV[5]  bus channel
-- ARGV[6]  epoch to use when the topic starts (or restarts after its keys were lost)
-- returns  {seq, epoch}
-- The published message is the exact frame element clients receive, so nodes forward it as is.
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if (not epoch) or seq == 1 then
  epoch = ARGV[6]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  redis.call('DEL', KEYS[2])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-1', 'd', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
local msg = '{"type":"push","topic":' .. cjson.encode(ARGV[1]) .. ',"seq":' .. seq ..
  ',"epoch":' .. cjson.encode(epoch) .. ',"d":' .. ARGV[2] .. '}'
redis.call('PUBLISH', ARGV[5], msg)
return {seq, epoch}
