-- Calls: waiting order, queue entry, ringing, the ways a call leaves a queue.
-- Call hash: q queue, st waiting|ringing|connected|ended, pr priority, fe first entered (any queue),
-- eq entered this queue, sc waiting score, xs the call's own skills, ch channel, cl caller, lg language,
-- ops ringing operators, op connected operator, ot offered at, ct connected at, cb callback number,
-- dl max-wait deadline.
local ENDED_TTL = 3600
local LIVE_TTL = 172800

local function call(id)
  local c = hash(k_call(id))
  if not c.st or c.st == 'ended' then fail('NO_SUCH_CALL', id) end
  c.id = id
  c.fe, c.eq, c.pr = num(c.fe, NOW), num(c.eq, NOW), num(c.pr, 0)
  c.cb = c.cb or ''
  return c
end

local function live_call(id)
  local st = hget(k_call(id), 'st')
  if not st or st == 'ended' then return nil end
  return call(id)
end

-- Required skills of a call in a queue: the queue's, raised by the call's own (highest level wins).
local function required(conf, c)
  local req, names = {}, {}
  for s, level in pairs(conf.skills) do req[s] = level end
  for s, level in pairs(parse_skills(c.xs)) do
    if not req[s] or req[s] < level then req[s] = level end
  end
  for s in pairs(req) do names[#names + 1] = s end
  table.sort(names)
  return req, names
end

-- Waiting order: lower score first. One priority step is worth `priority_aging_seconds` of waiting, so a
-- low-priority caller overtakes newer high-priority ones after that long; aging 0 = strict priority.
local function waiting_score(conf, c)
  if conf.aging > 0 then return c.fe - c.pr * conf.aging end
  return c.fe - c.pr * 1e10
end

local function arm_max_wait(c, conf)
  c.dl = NOW + conf.max_wait
  redis.call('HSET', k_call(c.id), 'dl', f6(c.dl))
  redis.call('ZADD', K_acd_timers, f6(c.dl), 'w|' .. c.id)
end

-- Whether a working operator of the queue can take the call (the when_empty check).
local function staffed_for(conf, c)
  local key = k_queue_staffed(conf.name)
  local req, names = required(conf, c)
  if #names == 0 and (c.ch or '') == '' then return redis.call('SCARD', key) > 0 end
  for _, id in ipairs(redis.call('SMEMBERS', key)) do
    if eligible(id, req, names, c.ch) then return true end
  end
  return false
end

-- Put a call into a queue's waiting set (first-entered time kept) and journal ENTER_QUEUE.
local function enter(c, q, data, extra)
  local conf = cfg(q)
  c.q, c.eq, c.st = q, NOW, 'waiting'
  c.sc = waiting_score(conf, c)
  redis.call('HSET', k_call(c.id), 'q', q, 'eq', NOW_S, 'st', 'waiting', 'sc', f6(c.sc), 'op', '', 'ops', '')
  redis.call('ZADD', k_queue_waiting(q), f6(c.sc), c.id)
  if c.cb == '' then arm_max_wait(c, conf) end
  local position = redis.call('ZRANK', k_queue_waiting(q), c.id) + 1
  data.position, data.priority = position, c.pr
  journal('ENTER_QUEUE', c, q, '', data, extra)
  return position
end

local function end_call(c)
  c.st = 'ended'
  redis.call('HSET', k_call(c.id), 'st', 'ended', 'ops', '')
  redis.call('EXPIRE', k_call(c.id), ENDED_TTL)
  redis.call('ZREM', K_acd_timers, 'w|' .. c.id)
end

-- Back to its original place in its queue (RONA keeps the caller's place).
local function requeue(c)
  c.st = 'waiting'
  redis.call('HSET', k_call(c.id), 'st', 'waiting', 'ops', '')
  redis.call('ZADD', k_queue_waiting(c.q), hget(k_call(c.id), 'sc'), c.id)
  local dl = hget(k_call(c.id), 'dl')
  if c.cb == '' and dl then redis.call('ZADD', K_acd_timers, dl, 'w|' .. c.id) end
end

local function set_callback(c, number, reason)
  if number == '' then number = 'unknown' end
  c.cb = number
  redis.call('HSET', k_call(c.id), 'cb', number)
  redis.call('ZREM', K_acd_timers, 'w|' .. c.id)
  journal('CALLBACK_REQUESTED', c, c.q, '', { number = number, reason = reason })
end

-- The caller left while waiting or ringing. A pending callback is not abandoned: the caller hung up on purpose.
local function abandon(c)
  if c.cb ~= '' then return 0 end
  if c.st == 'waiting' then
    redis.call('ZREM', k_queue_waiting(c.q), c.id)
  elseif c.st == 'ringing' then
    for _, id in ipairs(split(c.ops)) do release(id, c.id, 'caller_abandoned') end
  else
    fail('CALL_NOT_WAITING', c.id .. ' is ' .. c.st)
  end
  journal('ABANDONED', c, c.q, '', { wait = NOW - c.fe, queue_wait = NOW - c.eq })
  end_call(c)
  return 1
end

-- Ring no answer: the operator is freed (or sent to break after max_missed misses in a row); the call
-- returns to its original place when nobody else is still ringing for it.
local function no_answer(c, id)
  local ringing = split(c.ops)
  if c.st ~= 'ringing' or not contains(ringing, id) then fail('CALL_NOT_OFFERED', c.id .. ' at ' .. id) end
  local o = operator(id)
  redis.call('ZREM', K_acd_timers, 'r|' .. c.id .. '|' .. id)
  journal('RING_NO_ANSWER', c, c.q, id, { ring = NOW - num(hget(k_call(c.id), 'ot'), NOW) })
  local missed = redis.call('HINCRBY', k_operator(id), 'missed', 1)
  redis.call('HSET', k_operator(id), 'call', '')
  if missed >= cfg(c.q).max_missed then
    redis.call('HSET', k_operator(id), 'missed', 0)
    move(o, 'break', 'missed_calls', false)
  else
    move(o, 'available', '', true)
  end
  local rest = without(ringing, id)
  if #rest == 0 then requeue(c) else redis.call('HSET', k_call(c.id), 'ops', table.concat(rest, ',')) end
end

-- Max wait reached: journal EXIT_TIMEOUT, then overflow, convert to a callback (keeping the place), or end.
local function timeout(c)
  local conf = cfg(c.q)
  local action = conf.on_max_wait
  local to = action == 'overflow' and conf.overflow or nil
  journal('EXIT_TIMEOUT', c, c.q, '', { action = action, to = to, wait = NOW - c.fe })
  if action == 'callback' then
    set_callback(c, c.cl or '', 'max_wait')
    return action
  end
  redis.call('ZREM', k_queue_waiting(c.q), c.id)
  if action == 'overflow' then
    local from = c.q
    enter(c, to, { from = from, overflow = true })
  else
    end_call(c)
  end
  return action
end
