-- tick(limit): housekeeping of due deadlines: ring timeout -> RONA, wrap-up expiry, max wait -> timeout.
-- Each deadline is handled under pcall: one inconsistent entry is reported, never stalls the others.
local function ring_timeout(a, b, out)
  local c = live_call(a)
  if c and c.st == 'ringing' and contains(split(c.ops), b) then
    no_answer(c, b)
    out[#out + 1] = { 'ring_timeout', a, b, c.q, '' }
  end
end

local function wrap_up_expired(a, out)
  local o = hash(k_operator(a))
  if o.st == 'wrap_up' then
    o.id = a
    wrap_done(o, 'available', '', (o.lq and o.lq ~= '') and cfg(o.lq).wrap or nil)
    out[#out + 1] = { 'wrap_up_expired', o.call or '', a, o.lq or '', '' }
  end
end

local function max_wait(a, out)
  local c = live_call(a)
  if c and c.st == 'waiting' and c.cb == '' then
    local from = c.q
    out[#out + 1] = { 'max_wait', a, '', from, timeout(c) }
  end
end

local out = {}
local due = redis.call('ZRANGEBYSCORE', K_acd_timers, '-inf', NOW_S, 'LIMIT', 0, num(ARGV[5], 1000))
for _, member in ipairs(due) do
  redis.call('ZREM', K_acd_timers, member)
  local kind, a, b = string.match(member, '^(%a)|([^|]*)|?(.*)$')
  local ok, err = true, nil
  if kind == 'r' then
    ok, err = pcall(ring_timeout, a, b, out)
  elseif kind == 'u' then
    ok, err = pcall(wrap_up_expired, a, out)
  elseif kind == 'w' then
    ok, err = pcall(max_wait, a, out)
  end
  if not ok then out[#out + 1] = { 'error', a or '', b or '', '', tostring(err) } end
end
return out
