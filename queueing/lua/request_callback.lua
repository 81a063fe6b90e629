-- request_callback(call, number): the waiting caller asks to be called back; the call keeps its place.
local c = call(ARGV[5])
if c.st ~= 'waiting' then fail('CALL_NOT_WAITING', c.id .. ' is ' .. c.st) end
set_callback(c, ARGV[6], 'caller')
return redis.call('ZRANK', k_queue_waiting(c.q), c.id) + 1
