-- The echo benchmark's Lua server on socketkit's poller (one thread).
-- Prints "listening on PORT"; serves until killed.
local sk = require "socketkit"
local l = assert(sk.socket())
assert(l:setsockopt(sk.SOL_SOCKET, sk.SO_REUSEADDR, 1))
assert(l:bind("127.0.0.1", 0))
assert(l:listen(sk.SOMAXCONN))
assert(l:settimeout(0))
local p = assert(sk.poller())
assert(p:add(l, sk.POLLIN, false))
print("listening on " .. select(2, l:getsockname()))
io.stdout:flush()
local POLLIN = sk.POLLIN
while true do
  local events = assert(p:wait())
  for i = 1, #events do
    local s = events[i].socket
    if s == l then
      while true do
        local c = l:accept()
        if not c then break end
        c:settimeout(0)
        p:add(c, POLLIN, true)
      end
    else
      local data, _, err = s:recv(65536)
      if data and data ~= "" then
        s:sendall(data)
      elseif err ~= "EAGAIN" then
        s:close() -- leaves the poller too
      end
    end
  end
end
