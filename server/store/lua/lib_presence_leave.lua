-- Library, not a script: a user's last connection is gone; close their watch time and their
-- "online by country / organisation" share. Included by presence_remove.lua (a tab closed) and
-- presence_refresh.lua (entries that expired: a crashed node's users).
-- user_left(k_since, k_totals, k_watch, k_online_by, k_people, user, at)
--   k_since  HASH user -> start of the current online stretch   k_totals  HASH watch_total, since_sum, since_n
--   k_watch  HASH user -> seconds watched   k_online_by HASH "country:x" -> users online   k_people HASH profiles
local function user_left(k_since, k_totals, k_watch, k_online_by, k_people, user, at)
  local since = redis.call('HGET', k_since, user)
  if since then
    local spent = math.max(0, at - tonumber(since))
    redis.call('HINCRBYFLOAT', k_watch, user, spent)
    redis.call('HINCRBYFLOAT', k_totals, 'watch_total', spent)
    redis.call('HINCRBYFLOAT', k_totals, 'since_sum', -tonumber(since))
    redis.call('HINCRBY', k_totals, 'since_n', -1)
    redis.call('HDEL', k_since, user)
  end
  local ok, profile = pcall(cjson.decode, redis.call('HGET', k_people, user) or '{}')
  if ok and type(profile) == 'table' then
    for _, field in ipairs({'country', 'organisation'}) do
      local v = profile[field]
      if type(v) == 'string' and v ~= '' then redis.call('HINCRBY', k_online_by, field .. ':' .. v, -1) end
    end
  end
end
