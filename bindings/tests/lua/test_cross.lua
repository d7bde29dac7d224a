-- Cross-language: the C echo server (examples/echo_server) and Lua clients
-- (this process, and examples/lua/echo_client.lua as the demo runs it).
-- Usage: lua5.4 test_cross.lua ECHO_SERVER ECHO_CLIENT_LUA
local sk = require "socketkit"
local server_bin, client_lua = arg[1], arg[2]
assert(server_bin and client_lua, "usage: test_cross.lua ECHO_SERVER ECHO_CLIENT_LUA")

local function start_server(host, connections)
  local p = assert(io.popen(string.format("%q %s 0 %d", server_bin, host, connections)))
  local line = assert(p:read("l"), "echo_server printed nothing")
  local port = tonumber(line:match("^listening on .*:(%d+)$"))
  assert(port, "unexpected first line: " .. line)
  return p, port
end

local failures = 0
local function check(cond, what)
  io.write(cond and "ok   " or "FAIL ", what, "\n")
  if not cond then failures = failures + 1 end
end

-- 1. Lua client in this process, binary message, both families.
for _, host in ipairs { "127.0.0.1", "::1" } do
  local p, port = start_server(host, 1)
  local family = host == "::1" and sk.AF_INET6 or sk.AF_INET
  local s = assert(sk.socket(family))
  assert(s:settimeout(10))
  assert(s:connect(host, port))
  local msg = "binary\0payload\255" .. string.rep("x", 100000)
  local f = assert(s:makefile("rb"))
  -- The echo comes back while we send; 100 kB fits in loopback buffers, so
  -- reading only afterwards cannot deadlock (and the timeout bounds it).
  assert(s:sendall(msg))
  assert(s:shutdown(sk.SHUT_WR))
  local reply = assert(f:read())
  f:close()
  s:close()
  local log = p:read("a")
  p:close()
  check(reply == msg, "C server echoed " .. #msg .. " bytes to a Lua client over " .. host)
  check(log:find("echoed " .. #msg .. " bytes", 1, true) ~= nil, "C server's log over " .. host)
end

-- 2. The example client, as the demo runs it.
do
  local p, port = start_server("127.0.0.1", 1)
  local c = assert(io.popen(string.format("%q %q 127.0.0.1 %d %q", arg[-1], client_lua, port,
    "hello from lua")))
  local out = c:read("a")
  local ok = c:close()
  p:close()
  check(ok and out == "hello from lua\n", "examples/lua/echo_client.lua: " .. out:gsub("\n", ""))
end

io.write(failures == 0 and "all passed\n" or failures .. " failed\n")
os.exit(failures == 0 and 0 or 1)
