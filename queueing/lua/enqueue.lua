-- enqueue(call, queue, priority, skills, channel, caller, language, data): a call enters a queue.
-- Nobody working with the needed skills: the queue's when_empty decides (wait, overflow, voicemail, callback).
-- The queue already holding max_waiting calls: its on_max_wait decides at once (reason queue_full); 'hangup'
-- answers the action 'full' (the channel apologises and hangs up).
local id, q = ARGV[5], ARGV[6]
if redis.call('EXISTS', k_call(id)) == 1 then fail('CALL_EXISTS', id) end
local c = { id = id, pr = num(ARGV[7], 0), xs = ARGV[8], ch = ARGV[9], cl = ARGV[10], lg = ARGV[11],
  fe = NOW, cb = '' }
local extra, action, reason = ARGV[12], 'queued', 'empty'
for _ = 1, 8 do
  local conf = cfg(q)
  local how, why = conf.when_empty, nil
  if redis.call('ZCARD', k_queue_waiting(q)) >= conf.max_waiting then
    how, why = conf.on_max_wait, 'queue_full'
  elseif how == 'wait' or staffed_for(conf, c) then
    break
  end
  if how == 'voicemail' or how == 'hangup' then
    journal('EXIT_EMPTY', c, q, '', { action = how, reason = why }, extra)
    return { 0, how == 'hangup' and 'full' or 'voicemail', q }
  end
  if how == 'callback' then
    action, reason = 'callback', why or reason
    break
  end
  journal('EXIT_EMPTY', c, q, '', { action = 'overflow', to = conf.overflow, reason = why }, extra)
  action, q = 'overflow', conf.overflow
end
redis.call('HSET', k_call(id), 'fe', NOW_S, 'pr', c.pr, 'xs', c.xs, 'ch', c.ch, 'cl', c.cl, 'lg', c.lg, 'cb', '')
redis.call('EXPIRE', k_call(id), LIVE_TTL)
local position = enter(c, q, { caller = c.cl, language = c.lg, skills = c.xs ~= '' and c.xs or nil }, extra)
if action == 'callback' then set_callback(c, c.cl, reason) end
return { position, action, q }
