-- snapshot(): queues (waiting, head waits, counters, staffing) and operators for dashboards; read only.
local queues, operators = {}, {}
for _, q in ipairs(redis.call('SMEMBERS', K_queues)) do
  local longest = 0
  for _, id in ipairs(redis.call('ZRANGE', k_queue_waiting(q), 0, 9)) do
    local fe = tonumber(hget(k_call(id), 'fe'))
    if fe and NOW - fe > longest then longest = NOW - fe end
  end
  local key = k_queue_stats(q)
  local counters = hget(key, 'day') == DAY and redis.call('HGETALL', key) or {}
  queues[#queues + 1] = { q, redis.call('ZCARD', k_queue_waiting(q)), f6(longest), counters,
    redis.call('SCARD', k_queue_staffed(q)), redis.call('ZCARD', k_queue_available(q)) }
end
for _, id in ipairs(redis.call('SMEMBERS', K_operators)) do
  local o = redis.call('HMGET', k_operator(id), 'st', 'since', 'reason', 'call', 'sq', 'calls', 'talk', 'day')
  operators[#operators + 1] = { id, o[1] or '', o[2] or '', o[3] or '', o[4] or '', o[5] or '',
    o[8] == DAY and (o[6] or '0') or '0', o[8] == DAY and (o[7] or '0') or '0' }
end
return { queues, operators }
