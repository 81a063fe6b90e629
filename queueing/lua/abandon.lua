-- abandon(call): the caller hung up while waiting or ringing. Returns 0 for a pending callback (kept).
return abandon(call(ARGV[5]))
