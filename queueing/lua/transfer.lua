-- transfer(call, to queue, escalate): move a call to another queue, keeping its first-entered time.
local c = call(ARGV[5])
local to, kind = ARGV[6], ARGV[7] == '1' and 'ESCALATED' or 'TRANSFERRED'
cfg(to)
local from = c.q
if c.st == 'connected' then
  local o = operator(c.op)
  local talk = NOW - num(hget(k_call(c.id), 'ct'), NOW)
  journal(kind, c, from, o.id, { to = to, talk = talk })
  finish_conversation(o, c, from, talk)
else
  if c.st == 'ringing' then
    for _, id in ipairs(split(c.ops)) do release(id, c.id, 'transferred') end
  end
  redis.call('ZREM', k_queue_waiting(from), c.id)
  journal(kind, c, from, '', { to = to })
end
redis.call('ZREM', K_acd_timers, 'w|' .. c.id)
return enter(c, to, { from = from, escalated = kind == 'ESCALATED' or nil })
