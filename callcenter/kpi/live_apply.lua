-- Apply the KPI totals of calls to the live buckets as deltas against what was applied before.
-- KEYS[1] = version counter. ARGV[1] = JSON list of
--   {call = <call state key>, v = <event count>, ttl = <seconds>, buckets = {{key, ttl}, ...}, q = queue,
--    t = {field = value, ...}}
-- A call's state hash holds the totals already counted, the queue and bucket keys they went to, and the
-- event count they came from; an older or equal event count is ignored (a slower concurrent writer), so
-- replays and races never count a call twice. Bucket fields are "<queue>|<total>". Increments of the whole
-- batch are summed first: one HINCRBYFLOAT per bucket field.
local calls = cjson.decode(ARGV[1])
local delta, maxima, ttl = {}, {}, {}
local function add(key, field, value)
  if value == 0 then return end
  delta[key] = delta[key] or {}
  delta[key][field] = (delta[key][field] or 0) + value
end
local changed = 0
for _, c in ipairs(calls) do
  local prev = {}
  local flat = redis.call('HGETALL', c.call)
  for i = 1, #flat, 2 do prev[flat[i]] = flat[i + 1] end
  if prev['_v'] == nil or tonumber(prev['_v']) < c.v then
    local old_buckets = prev['_b'] and cjson.decode(prev['_b']) or {}
    local old_queue = prev['_q'] or ''
    local state, keys = {}, {}
    for name, value in pairs(c.t) do
      if name == 'max_wait_seconds' then
        for _, b in ipairs(c.buckets) do
          local field = c.q .. '|' .. name
          maxima[b[1]] = maxima[b[1]] or {}
          if value > (maxima[b[1]][field] or 0) then maxima[b[1]][field] = value end
        end
      else
        local before = tonumber(prev[name]) or 0
        for _, key in ipairs(old_buckets) do add(key, old_queue .. '|' .. name, -before) end
        for _, b in ipairs(c.buckets) do add(b[1], c.q .. '|' .. name, value) end
      end
      state[#state + 1] = name
      state[#state + 1] = value
    end
    for _, b in ipairs(c.buckets) do
      keys[#keys + 1] = b[1]
      ttl[b[1]] = b[2]
    end
    redis.call('HSET', c.call, '_v', c.v, '_q', c.q, '_b', cjson.encode(keys), unpack(state))
    redis.call('EXPIRE', c.call, c.ttl)
    changed = changed + 1
  end
end
for key, fields in pairs(delta) do
  for field, value in pairs(fields) do
    if value ~= 0 then redis.call('HINCRBYFLOAT', key, field, value) end
  end
end
for key, fields in pairs(maxima) do
  for field, value in pairs(fields) do
    if value > (tonumber(redis.call('HGET', key, field)) or 0) then redis.call('HSET', key, field, value) end
  end
end
for key, seconds in pairs(ttl) do redis.call('EXPIRE', key, seconds) end
if changed > 0 then redis.call('INCR', KEYS[1]) end
return changed
