-- The echo benchmark's LuaSocket server: socket.select over every client
-- (LuaSocket's select is select(2): it cannot take descriptors past
-- FD_SETSIZE). Prints "listening on PORT"; serves until killed.
local socket = require "socket"
local l = assert(socket.bind("127.0.0.1", 0, 4096))
l:settimeout(0)
print("listening on " .. select(2, l:getsockname()))
io.stdout:flush()
local clients = { l }
local index = { [l] = 1 }
local function drop(c)
  local i = index[c]
  local last = clients[#clients]
  clients[i], index[last] = last, i
  clients[#clients] = nil
  index[c] = nil
  c:close()
end
while true do
  local ready = assert(socket.select(clients, nil))
  for _, s in ipairs(ready) do
    if s == l then
      while true do
        local c = l:accept()
        if not c then break end
        c:settimeout(0)
        clients[#clients + 1] = c
        index[c] = #clients
      end
    else
      local data, err, partial = s:receive(65536)
      data = data or partial
      if data and data ~= "" then
        s:send(data)
      elseif err == "closed" then
        drop(s)
      end
    end
  end
end
