-- A connection closed cleanly: it stops counting at once; its user leaves with their last one.
-- KEYS[1]  conns ZSET     KEYS[2] conn_user HASH   KEYS[3] users ZSET   KEYS[4] user_conns HASH
-- KEYS[5]  since HASH     KEYS[6] totals HASH      KEYS[7] watch_time HASH user -> seconds
-- KEYS[8]  online_by HASH KEYS[9] people HASH
-- ARGV[1]  conn id        ARGV[2] now (unix s)
-- returns  {removed 0|1, user left 0|1}
--#include lib_presence_leave
local conn = ARGV[1]
local user = redis.call('HGET', KEYS[2], conn)
if not user then return {0, 0} end
redis.call('ZREM', KEYS[1], conn)
redis.call('HDEL', KEYS[2], conn)
local live = redis.call('HINCRBY', KEYS[4], user, -1)
if live > 0 then return {1, 0} end
redis.call('HDEL', KEYS[4], user)
redis.call('ZREM', KEYS[3], user)
user_left(KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], user, tonumber(ARGV[2]))
return {1, 1}
