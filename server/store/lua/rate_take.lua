-- Token bucket shared by every node: take one token or say how long until one is free.
-- KEYS[1]  bucket HASH {tokens, ts}
-- ARGV[1]  refill rate, tokens per second
-- ARGV[2]  burst (bucket size)
-- ARGV[3]  now, milliseconds (passed in so the script stays deterministic)
-- returns  {allowed 0|1, retry_after_ms}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (math.max(0, now - ts) / 1000.0) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}
