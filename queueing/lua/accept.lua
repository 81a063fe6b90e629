-- accept(call, operator): the ringing operator answers. With ring_all the first accept wins and the others
-- go back to available; a late accept gets CALL_NOT_OFFERED.
local c = call(ARGV[5])
local o = operator(ARGV[6])
local ringing = split(c.ops)
if c.st ~= 'ringing' or not contains(ringing, o.id) then fail('CALL_NOT_OFFERED', c.id .. ' at ' .. o.id) end
move(o, 'on_call', '', true)
redis.call('ZREM', K_acd_timers, 'r|' .. c.id .. '|' .. o.id)
for _, other in ipairs(without(ringing, o.id)) do release(other, c.id, 'answered_elsewhere') end
add_today(o, 1, 0)
redis.call('HSET', k_operator(o.id), 'missed', 0, 'call', c.id, 'lq', c.q)
redis.call('HSET', k_call(c.id), 'st', 'connected', 'op', o.id, 'ops', '', 'ct', NOW_S)
local ot = num(hget(k_call(c.id), 'ot'), NOW)
journal('CONNECTED', c, c.q, o.id, { wait = NOW - c.fe, queue_wait = NOW - c.eq, ring = NOW - ot,
  callback = c.cb ~= '' or nil })
return 1
