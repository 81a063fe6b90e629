-- callback_dialled(call): the callback of an offered (or accepted) callback call is being dialled.
local c = call(ARGV[5])
if c.cb == '' then fail('NOT_A_CALLBACK', c.id) end
if c.st ~= 'ringing' and c.st ~= 'connected' then fail('CALL_NOT_OFFERED', c.id .. ' is ' .. c.st) end
journal('CALLBACK_DIALLED', c, c.q, c.op or '', { number = c.cb })
return 1
