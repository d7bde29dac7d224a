-- One p:wait() finding 1 ready socket among 10,000 idle ones (UDP sockets,
-- one with a datagram always queued), in process CPU time per wait.
-- Target: at most nio4r's 1.28 us. Run pinned: taskset -c 0.
local sk = require "socketkit"
local N, WAITS, ROUNDS = 10000, tonumber(arg[1]) or 20000, 9
local p = assert(sk.poller())
local socks = {}
for i = 1, N do
  local s = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
  assert(s:bind("127.0.0.1", 0))
  assert(p:add(s, sk.POLLIN, i))
  socks[i] = s
end
local sender = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
assert(sender:sendto("r", "127.0.0.1", select(2, socks[N // 2]:getsockname())))
assert(#assert(p:wait(10)) == 1)
local per = {}
for r = 1, ROUNDS do
  local t0 = os.clock()
  for _ = 1, WAITS do p:wait() end
  per[r] = (os.clock() - t0) / WAITS * 1e6
end
table.sort(per)
local m = per[(ROUNDS + 1) // 2]
print(string.format("lua  p:wait() 1 ready of %d: %.2f us (median of %d rounds, spread %.2f-%.2f)", N, m, ROUNDS, per[1], per[ROUNDS]))
print(string.format("ratio %-26s %5.2f   target <= 1.28  %s", "lua wait us (nio4r 1.28)", m, m <= 1.28 and "ok" or "ABOVE TARGET"))
for _, s in ipairs(socks) do s:close() end
