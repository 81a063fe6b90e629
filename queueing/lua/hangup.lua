-- hangup(call, by): end of a conversation (operator to wrap-up); a caller hanging up before that abandons.
local c = call(ARGV[5])
local by = ARGV[6]
if c.st ~= 'connected' then
  if by ~= 'caller' then fail('CALL_NOT_CONNECTED', c.id .. ' is ' .. c.st) end
  if abandon(c) == 1 then return 'ABANDONED' end
  return ''
end
local o = operator(c.op)
local talk = NOW - num(hget(k_call(c.id), 'ct'), NOW)
local kind = by == 'operator' and 'COMPLETED_BY_OPERATOR' or 'COMPLETED_BY_CALLER'
journal(kind, c, c.q, o.id, { talk = talk, wait = num(hget(k_call(c.id), 'ct'), NOW) - c.fe })
finish_conversation(o, c, c.q, talk)
end_call(c)
return kind
