-- enqueue(call, queue, priority, skills, channel, caller, language, data): a call enters a queue.
-- Nobody working with the needed skills: the queue's when_empty decides (wait, overflow, voicemail, callback).
local id, q = ARGV[5], ARGV[6]
if redis.call('EXISTS', k_call(id)) == 1 then fail('CALL_EXISTS', id) end
local c = { id = id, pr = num(ARGV[7], 0), xs = ARGV[8], ch = ARGV[9], cl = ARGV[10], lg = ARGV[11],
  fe = NOW, cb = '' }
local extra, action = ARGV[12], 'queued'
for _ = 1, 8 do
  local conf = cfg(q)
  if conf.when_empty == 'wait' or staffed_for(conf, c) then break end
  if conf.when_empty == 'voicemail' then
    journal('EXIT_EMPTY', c, q, '', { action = 'voicemail' }, extra)
    return { 0, 'voicemail', q }
  end
  if conf.when_empty == 'callback' then
    action = 'callback'
    break
  end
  journal('EXIT_EMPTY', c, q, '', { action = 'overflow', to = conf.overflow }, extra)
  action, q = 'overflow', conf.overflow
end
redis.call('HSET', k_call(id), 'fe', NOW_S, 'pr', c.pr, 'xs', c.xs, 'ch', c.ch, 'cl', c.cl, 'lg', c.lg, 'cb', '')
redis.call('EXPIRE', k_call(id), LIVE_TTL)
local position = enter(c, q, { caller = c.cl, language = c.lg, skills = c.xs ~= '' and c.xs or nil }, extra)
if action == 'callback' then set_callback(c, c.cl, 'empty') end
return { position, action, q }
