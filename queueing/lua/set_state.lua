-- set_state(operator, target, reason, queues csv): login, logout, break, back to available.
-- Leaving wrap-up this way closes it (WRAPUP_DONE) first.
local o = operator(ARGV[5])
local to, reason = ARGV[6], ARGV[7]
if not MANUAL[to] then fail('ILLEGAL_TRANSITION', o.id .. ' cannot ask for ' .. to) end
if not MANUAL_FROM[o.st] then fail('ILLEGAL_TRANSITION', o.id .. ' is ' .. o.st .. ': the call decides') end
if not (TRANSITIONS[o.st] and TRANSITIONS[o.st][to]) then
  fail('ILLEGAL_TRANSITION', o.id .. ' ' .. o.st .. ' -> ' .. to)
end
if o.st == 'offline' then
  local sq = ARGV[8] ~= '' and ARGV[8] or (o.cq or '')
  for _, q in ipairs(split(sq)) do cfg(q) end
  o.sq = sq
  redis.call('HSET', k_operator(o.id), 'sq', sq, 'missed', 0, 'login', NOW_S)
end
if o.st == 'wrap_up' then
  wrap_done(o, to, reason)
else
  move(o, to, reason, false)
end
return o.st
