-- echo_client.lua HOST PORT MESSAGE
--
-- Sends MESSAGE to an echo server (examples/echo_server), shuts down the
-- sending side, reads the reply until the server closes, prints it, and
-- exits 0 if the reply is exactly the message.
local socketkit = require "socketkit"

local host, port, message = arg[1], tonumber(arg[2]), arg[3]
if not (host and port and message) then
  io.stderr:write("usage: lua5.4 echo_client.lua HOST PORT MESSAGE\n")
  os.exit(2)
end

local function check(ok, msg, errname)
  if not ok then
    io.stderr:write("echo_client.lua: ", msg, " (", errname, ")\n")
    os.exit(1)
  end
  return ok
end

local family = host:find(":", 1, true) and socketkit.AF_INET6 or socketkit.AF_INET
local s <close> = check(socketkit.socket(family, socketkit.SOCK_STREAM))
check(s:settimeout(10))
check(s:connect(host, port))
check(s:sendall(message))
check(s:shutdown(socketkit.SHUT_WR))

local parts = {}
while true do
  local data = check(s:recv(65536))
  if data == "" then break end
  parts[#parts + 1] = data
end
local reply = table.concat(parts)
print(reply)
os.exit(reply == message and 0 or 1)
