-- wrap_up_done(operator): after-call work finished; the operator is available again.
local o = operator(ARGV[5])
if o.st ~= 'wrap_up' then fail('ILLEGAL_TRANSITION', o.id .. ' is ' .. o.st .. ', not in wrap_up') end
wrap_done(o, 'available', '')
return 1
