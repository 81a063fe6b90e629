-- Shared core of every ACD script: arguments, errors, journal, counters, configuration.
-- ARGV[1] = now (epoch seconds, the event timestamp verbatim), ARGV[2] = event id base, ARGV[3] = today.
local NOW_S = ARGV[1]
local NOW = tonumber(NOW_S)
local EID = ARGV[2]
local DAY = ARGV[3]
local SEQ = 0

local function fail(code, detail)
  error('ACD:' .. code .. '|' .. (detail or '') .. '|', 0)
end

local function f6(x)
  return string.format('%.6f', x)
end

local function num(v, default)
  return tonumber(v) or default
end

local function hget(key, field)
  local v = redis.call('HGET', key, field)
  if v == false then return nil end
  return v
end

local function hash(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function split(s)
  local t = {}
  if s and s ~= '' then
    for x in string.gmatch(s, '[^,]+') do t[#t + 1] = x end
  end
  return t
end

local function contains(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end

local function without(list, x)
  local t = {}
  for _, v in ipairs(list) do
    if v ~= x then t[#t + 1] = v end
  end
  return t
end

local function parse_skills(s)
  local t = {}
  if s and s ~= '' then
    for name, level in string.gmatch(s, '([^,=]+)=(%d+)') do t[name] = tonumber(level) end
  end
  return t
end

-- A flat JSON object; `extra` is the inside of a JSON object supplied by Python (already encoded).
local function json(t, extra)
  local names = {}
  for k in pairs(t) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do
    local v, enc = t[k], nil
    if type(v) == 'number' then
      if v == math.floor(v) then enc = string.format('%d', v) else enc = string.format('%.3f', v) end
    elseif type(v) == 'boolean' then
      enc = tostring(v)
    else
      enc = cjson.encode(tostring(v))
    end
    parts[#parts + 1] = cjson.encode(k) .. ':' .. enc
  end
  if extra and extra ~= '' then parts[#parts + 1] = extra end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Today's counters of a queue; reset when the day changes, keeping the throughput estimate.
local STATS_FRESH = {}
local function stats_key(q)
  local key = k_queue_stats(q)
  if not STATS_FRESH[q] then
    if hget(key, 'day') ~= DAY then
      local aht = hget(key, 'aht')
      redis.call('DEL', key)
      redis.call('HSET', key, 'day', DAY)
      if aht then redis.call('HSET', key, 'aht', aht) end
    end
    STATS_FRESH[q] = true
  end
  return key
end

-- Append one event to the journal stream and count it for its queue (counters == journal by construction).
local function journal(kind, c, q, op, data, extra)
  SEQ = SEQ + 1
  redis.call('XADD', K_journal, '*', 'id', EID .. ':' .. SEQ, 'type', kind, 'ts', NOW_S,
    'call_id', c and c.id or '', 'channel', c and c.ch or '', 'queue', q or '', 'operator', op or '',
    'data', json(data or {}, extra))
  if q and q ~= '' then redis.call('HINCRBY', stats_key(q), string.lower(kind), 1) end
end

local CFG = {}
local function cfg(q)
  local c = CFG[q]
  if c then return c end
  c = hash(k_queue_config(q))
  if not c.strategy then fail('NO_SUCH_QUEUE', q) end
  c.name = q
  c.priority = num(c.priority, 0)
  c.skills = parse_skills(c.skills)
  c.prefer = c.prefer == '1'
  c.ring = num(c.ring, 20)
  c.wrap = num(c.wrap, 0)
  c.max_wait = num(c.max_wait, 600)
  c.max_waiting = num(c.max_waiting, 500)
  c.max_missed = num(c.max_missed, 3)
  c.aging = num(c.aging, 0)
  CFG[q] = c
  return c
end

-- Park-Miller generator seeded from Python: Redis scripts may not use their own randomness.
local RNG = (num(ARGV[4], 1) % 2147483646) + 1
local function rand(n)
  RNG = (RNG * 16807) % 2147483647
  return (RNG % n) + 1
end
