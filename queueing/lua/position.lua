-- position(call): place in queue and the inputs of the estimated wait (handle time, working operators).
local c = call(ARGV[5])
local rank = c.st == 'waiting' and redis.call('ZRANK', k_queue_waiting(c.q), c.id) or false
return { rank and rank + 1 or 0, c.st, c.q, hget(stats_key(c.q), 'aht') or '',
  redis.call('SCARD', k_queue_staffed(c.q)), redis.call('ZCARD', k_queue_available(c.q)) }
