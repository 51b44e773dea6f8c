-- Library, not a script: included by scripts that change state AND publish it in one atomic step,
-- so a node dying between "stored" and "published" cannot leave a change nobody was told about.
-- publish(meta, history, topic, payload, maxlen, ttl, channel, epoch) -> {seq, epoch}
--   meta     topic meta HASH {seq, epoch}            (a KEYS entry of the including script)
--   history  topic history STREAM, id <seq>-1        (a KEYS entry of the including script)
--   payload  the push's JSON value
--   epoch    the epoch to use when the topic starts (or restarts after its keys were lost)
-- The published message is the exact frame element clients receive, so nodes forward it as is.
local function publish(meta, history, topic, payload, maxlen, ttl, channel, epoch)
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  local current = redis.call('HGET', meta, 'epoch')
  if (not current) or seq == 1 then
    current = epoch
    redis.call('HSET', meta, 'epoch', current)
    redis.call('DEL', history)
  end
  redis.call('XADD', history, 'MAXLEN', '~', maxlen, seq .. '-1', 'd', payload)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', history, ttl)
  local msg = '{"type":"push","topic":' .. cjson.encode(topic) .. ',"seq":' .. seq ..
    ',"epoch":' .. cjson.encode(current) .. ',"d":' .. payload .. '}'
  redis.call('PUBLISH', channel, msg)
  return {seq, current}
end
