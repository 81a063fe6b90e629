-- Operators: state machine (TRANSITIONS is generated from callcenter/domain/operator.py) and the indexes
-- the router reads: per queue, the staffed set (working operators) and the available set scored by strategy.

local function operator(id)
  local o = hash(k_operator(id))
  if not o.st then fail('NO_SUCH_OPERATOR', id) end
  o.id = id
  return o
end

-- Today's answered calls / talk seconds of an operator (reset when the day changes).
local function today(o, field)
  if o.day ~= DAY then return 0 end
  return num(o[field], 0)
end

local function add_today(o, calls, talk)
  local c, t = today(o, 'calls') + calls, today(o, 'talk') + talk
  o.day, o.calls, o.talk = DAY, c, t
  redis.call('HSET', k_operator(o.id), 'day', DAY, 'calls', c, 'talk', f6(t))
end

-- Lowest score is offered first. Ties on calls or talk time go to the operator idle longest.
local function avail_score(o, q)
  local s = cfg(q).strategy
  local idle = num(o.idle, NOW)
  if s == 'round_robin' then return num(o.rr, 0) end
  if s == 'fewest_calls' then return today(o, 'calls') * 1e10 + idle end
  if s == 'least_talk_time' then return today(o, 'talk') * 1e10 + idle end
  return idle
end

-- A queue removed from the configuration while the operator was logged in is skipped, not an error:
-- otherwise that operator could never change state again.
local function index_available(o, on)
  for _, q in ipairs(split(o.sq)) do
    local configured, score = pcall(avail_score, o, q)
    if on and configured then
      redis.call('ZADD', k_queue_available(q), f6(score), o.id)
    elseif not on then
      redis.call('ZREM', k_queue_available(q), o.id)
    end
  end
end

local function index_staffed(o, on)
  for _, q in ipairs(split(o.sq)) do
    redis.call(on and 'SADD' or 'SREM', k_queue_staffed(q), o.id)
  end
end

local function working(state)
  return state ~= 'offline' and state ~= 'break'
end

-- Move an operator along the transition table. `implied` = a call event of the same script already says it.
local function move(o, to, reason, implied)
  local from = o.st
  if not (TRANSITIONS[from] and TRANSITIONS[from][to]) then
    fail('ILLEGAL_TRANSITION', o.id .. ' ' .. from .. ' -> ' .. to)
  end
  if from == 'available' then index_available(o, false) end
  if working(from) and not working(to) then index_staffed(o, false) end
  o.st, o.reason = to, reason or ''
  redis.call('HSET', k_operator(o.id), 'st', to, 'since', NOW_S, 'reason', o.reason)
  if to == 'available' then
    o.idle = NOW
    redis.call('HSET', k_operator(o.id), 'idle', NOW_S, 'call', '')
    index_available(o, true)
  end
  if working(to) and not working(from) then index_staffed(o, true) end
  if not implied then
    journal('OPERATOR_STATE', nil, '', o.id, { from = from, to = to, reason = o.reason ~= '' and o.reason or nil })
  end
end

-- Handle time (talk + wrap-up) feeds the queue's throughput estimate (exponentially weighted, alpha 0.2).
local function record_handle(q, seconds)
  if not q or q == '' then return end
  local key = stats_key(q)
  local aht = tonumber(hget(key, 'aht'))
  if aht then aht = aht + 0.2 * (seconds - aht) else aht = seconds end
  redis.call('HSET', key, 'aht', f6(aht))
end

-- Close the wrap-up of an operator (done, expired, or left by a state change) and move them to `to`.
-- An expired wrap-up counts its configured length, however late the housekeeping tick came.
local function wrap_done(o, to, reason, limit)
  local call_id = o.call or ''
  local wrap = NOW - num(o.wu, NOW)
  if limit and wrap > limit then wrap = limit end
  record_handle(o.lq, num(o.ht, 0) + wrap)
  local ch = call_id ~= '' and hget(k_call(call_id), 'ch') or ''
  journal('WRAPUP_DONE', { id = call_id, ch = ch }, o.lq, o.id, { seconds = wrap })
  redis.call('ZREM', K_acd_timers, 'u|' .. o.id)
  redis.call('HSET', k_operator(o.id), 'call', '')
  move(o, to, reason, to == 'available')
end

-- After a conversation: wrap-up for the queue's wrap-up time, or straight back to available.
local function finish_conversation(o, c, q, talk)
  add_today(o, 0, talk)
  local wrap = cfg(q).wrap
  if wrap > 0 then
    move(o, 'wrap_up', '', true)
    redis.call('HSET', k_operator(o.id), 'wu', NOW_S, 'ht', f6(talk), 'lq', q)
    redis.call('ZADD', K_acd_timers, f6(NOW + wrap), 'u|' .. o.id)
  else
    record_handle(q, talk)
    journal('WRAPUP_DONE', c, q, o.id, { seconds = 0 })
    move(o, 'available', '', true)
  end
end

-- Put an operator who was ringing for a call back to available (ring-all lost, caller gone, moved).
local function release(id, call_id, reason)
  local o = operator(id)
  redis.call('ZREM', K_acd_timers, 'r|' .. call_id .. '|' .. id)
  move(o, 'available', reason, false)
end

-- Reach: 'cannot' lists the channels whose calls the operator's softphone cannot take (set from the softphone
-- by configure: the SIP gateway rings only SIP softphones, so a browser softphone cannot take SIP calls).
local function reaches(id, ch)
  if not ch or ch == '' then return true end
  local cannot = redis.call('HGET', k_operator(id), 'cannot')
  if not cannot or cannot == '' then return true end
  return string.find(',' .. cannot .. ',', ',' .. ch .. ',', 1, true) == nil
end

-- Skill and reach check: the softphone can take the call's channel and every required skill is at or above
-- its level; returns the sum of levels for preference.
local function eligible(id, req, names, ch)
  if not reaches(id, ch) then return false, 0 end
  if #names == 0 then return true, 0 end
  local got = redis.call('HMGET', k_operator_skills(id), unpack(names))
  local total = 0
  for i, s in ipairs(names) do
    local level = tonumber(got[i]) or 0
    if level < req[s] then return false, 0 end
    total = total + level
  end
  return true, total
end
