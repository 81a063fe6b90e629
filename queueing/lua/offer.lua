-- offer(queue or '', max offers): reserve the best available operator for the best waiting call, repeatedly.
-- Queues are served by queue priority, then the waiting score of their head call; within a queue the head
-- call (or, when nobody has its skills, one of the next LOOKAHEAD calls) goes to the strategy's operator.
local LOOKAHEAD = 16
local CHUNK = 32

local function pick_ordered(conf, req, names, ch)
  local key, start = k_queue_available(conf.name), 0
  while true do
    local ids = redis.call('ZRANGE', key, start, start + CHUNK - 1)
    for _, id in ipairs(ids) do
      if eligible(id, req, names, ch) then return { id } end
    end
    if #ids < CHUNK then return nil end
    start = start + CHUNK
  end
end

local function pick_all(conf, req, names, ch)
  local ids, best, chosen = redis.call('ZRANGE', k_queue_available(conf.name), 0, -1), -1, {}
  local prefer = conf.prefer and conf.strategy ~= 'ring_all'
  for _, id in ipairs(ids) do
    local ok, level = eligible(id, req, names, ch)
    if ok and prefer and level > best then
      chosen, best = { id }, level
    elseif ok and (not prefer or level == best) then
      chosen[#chosen + 1] = id
    end
  end
  if #chosen == 0 then return nil end
  if conf.strategy == 'random' then return { chosen[rand(#chosen)] } end
  if conf.strategy ~= 'ring_all' then return { chosen[1] } end
  return chosen
end

local function pick(conf, c)
  local req, names = required(conf, c)
  if conf.strategy == 'ring_all' or conf.strategy == 'random' or conf.prefer then
    return pick_all(conf, req, names, c.ch)
  end
  return pick_ordered(conf, req, names, c.ch)
end

local function reserve(c, conf, ids, out)
  local ring_all = conf.strategy == 'ring_all' or nil
  for _, id in ipairs(ids) do
    local o = operator(id)
    move(o, 'reserved', '', true)
    local rr = redis.call('HINCRBY', K_acd_meta, 'rr', 1)
    redis.call('HSET', k_operator(id), 'call', c.id, 'rr', rr, 'lq', conf.name)
    redis.call('ZADD', K_acd_timers, f6(NOW + conf.ring), 'r|' .. c.id .. '|' .. id)
    journal('OFFERED', c, conf.name, id, { ring_all = ring_all, callback = c.cb ~= '' or nil, wait = NOW - c.fe })
    out[#out + 1] = { c.id, id, conf.name, c.cb, c.ch or '', c.cl or '', c.lg or '', ring_all and 1 or 0,
      f6(NOW - c.fe), c.pr }
  end
  redis.call('ZREM', k_queue_waiting(conf.name), c.id)
  redis.call('HSET', k_call(c.id), 'st', 'ringing', 'ops', table.concat(ids, ','), 'ot', NOW_S)
end

-- The next candidate call of a queue (skipping `skip` calls nobody available can take).
local function head(cand)
  local key = k_queue_waiting(cand.conf.name)
  while cand.skip < LOOKAHEAD do
    local r = redis.call('ZRANGE', key, cand.skip, cand.skip, 'WITHSCORES')
    if #r == 0 then return nil end
    local st = hget(k_call(r[1]), 'st')
    if st == 'waiting' then
      cand.call, cand.score = r[1], tonumber(r[2])
      return cand
    end
    redis.call('ZREM', key, r[1]) -- the call hash expired or ended: drop the stale entry
  end
  return nil
end

local function better(a, b)
  if not b then return true end
  if a.conf.priority ~= b.conf.priority then return a.conf.priority > b.conf.priority end
  if a.score ~= b.score then return a.score < b.score end
  return a.conf.name < b.conf.name
end

local function candidates(only)
  local names = only ~= '' and { only } or redis.call('SMEMBERS', K_queues)
  local list = {}
  for _, q in ipairs(names) do
    local conf = cfg(q)
    if redis.call('ZCARD', k_queue_waiting(q)) > 0 then list[#list + 1] = { conf = conf, skip = 0 } end
  end
  return list
end

local out, limit = {}, num(ARGV[6], 1000)
local list = candidates(ARGV[5])
while #out < limit do
  local best = nil
  for _, cand in ipairs(list) do
    if not cand.done then
      if redis.call('ZCARD', k_queue_available(cand.conf.name)) == 0 then
        cand.done = true
      elseif not cand.call and not head(cand) then
        cand.done = true
      elseif better(cand, best) then
        best = cand
      end
    end
  end
  if not best then break end
  local c = call(best.call)
  local ids = pick(best.conf, c)
  if ids then reserve(c, best.conf, ids, out) else best.skip = best.skip + 1 end
  best.call = nil
end
return out
