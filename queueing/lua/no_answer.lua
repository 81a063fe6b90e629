-- no_answer(call, operator): RONA reported by the channel (rejected or not picked up).
no_answer(call(ARGV[5]), ARGV[6])
return 1
