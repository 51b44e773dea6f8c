-- Toggle one user's upvote on a question and return the new count with a version, atomically.
-- KEYS[1]  voters SET of the question
-- KEYS[2]  rank ZSET question id -> votes
-- KEYS[3]  versions HASH question id -> vote change counter
-- ARGV[1]  user id
-- ARGV[2]  question id
-- ARGV[3]  TTL seconds
-- returns  {voted 0|1, votes, version}
-- The version lets clients drop a vote push that overtook a newer one between nodes.
local voted = 1
local delta = 1
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  redis.call('SREM', KEYS[1], ARGV[1])
  voted = 0
  delta = -1
end
local votes = redis.call('ZINCRBY', KEYS[2], delta, ARGV[2])
local version = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {voted, tonumber(votes), version}
