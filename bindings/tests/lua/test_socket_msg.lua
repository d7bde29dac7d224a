-- The 1.1 socket methods in Lua: s:dup(), inheritability,
-- s:sendfile(fd, offset?, count?), s:send_fds(data, {fd...}),
-- s:recv_fds(n, maxfds) -> data, {fd...}, msg_flags, s:sendmsg({str...}).
-- Usage: lua5.4 test_socket_msg.lua
local sk = require "socketkit"

local cases, failed = {}, 0
local function case(name, fn) cases[#cases + 1] = {name, fn} end

local function eq(got, want, what)
  if got ~= want or math.type(got) ~= math.type(want) then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

local function fails(errname, ok, msg, name)
  if ok ~= nil or name ~= errname or type(msg) ~= "string" then
    error(string.format("expected nil, message, %s; got %s, %s, %s", errname,
      tostring(ok), tostring(msg), tostring(name)), 2)
  end
end

local function recv_exactly(s, n)
  local parts, got = {}, 0
  while got < n do
    local d = assert(s:recv(n - got))
    if d == "" then break end
    parts[#parts + 1] = d
    got = got + #d
  end
  return table.concat(parts)
end

local function tcp_pair()
  local l = assert(sk.socket(sk.AF_INET))
  assert(l:bind("127.0.0.1", 0))
  assert(l:listen(4))
  local c = assert(sk.socket(sk.AF_INET))
  assert(c:connect(l:getsockname()))
  local s = assert(l:accept())
  l:close()
  assert(s:settimeout(10))
  return c, s
end

-- A temporary file holding data; its path.
local function temp_with(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

case("dup keeps the mode and survives the original's close", function()
  local c, s = tcp_pair()
  assert(c:settimeout(2.5))
  local d = assert(c:dup())
  eq(d:gettimeout(), 2.5, "timeout")
  assert(d:fileno() ~= c:fileno())
  eq(d:get_inheritable(), false, "inheritable")
  assert(d:set_inheritable(true))
  eq(d:get_inheritable(), true, "inheritable after set")
  assert(c:close())
  assert(d:sendall("via dup"))
  eq(recv_exactly(s, 7), "via dup", "data")
  fails("EBADF", c:dup())
  d:close()
  s:close()
end)

case("sendfile sends ranges of a file by descriptor", function()
  local parts = {}
  for i = 0, 9999 do parts[#parts + 1] = string.format("%05d|", i) end
  local data = table.concat(parts)
  local path = temp_with(data)
  local c, s = tcp_pair()
  -- Lua's io files have no fileno: a child Lua gets the file as its
  -- standard input, descriptor 0, and sends from it.
  local out = assert(io.popen(string.format(
    "%s -e %q < %q", arg[-1], [[
      local sk = require "socketkit"
      local a, b = assert(sk.socketpair())
      local n1 = assert(a:sendfile(0, 6, 12))
      local n2 = assert(a:sendfile(0, 59994))
      local n3 = assert(a:sendfile(0, 70000, nil))
      a:close()
      io.write(math.type(n1), " ", n1, " ", n2, " ", n3, " ", b:recv(100))
    ]], path)))
  local got = out:read("a")
  out:close()
  eq(got, "integer 12 6 0 00001|00002|09999|", "child's sendfile")
  fails("EINVAL", c:sendfile(-1))
  local ok, err = pcall(c.sendfile, c, "not a descriptor")
  assert(not ok and tostring(err):find("integer expected"), "wrong type raises: " .. tostring(err))
  os.remove(path)
  c:close()
  s:close()
end)

case("send_fds and recv_fds pass descriptors", function()
  local a, b = assert(sk.socketpair())
  assert(b:settimeout(10))
  local x, y = assert(sk.socketpair())
  eq(a:send_fds("hi", {x:fileno(), x:fileno()}), 2, "bytes sent")
  local data, fds, flags = b:recv_fds(16, 1)
  eq(data, "hi", "data")
  eq(#fds, 1, "kept descriptors")
  eq(math.type(fds[1]), "integer", "descriptor type")
  assert(flags & sk.MSG_CTRUNC ~= 0, "MSG_CTRUNC reported")
  -- The received copy works: wrap it and talk through it.
  local copy = assert(sk.from_fd(fds[1]))
  eq(copy:get_inheritable(), false, "close-on-exec")
  assert(copy:sendall("through the copy"))
  assert(y:settimeout(10))
  eq(recv_exactly(y, 16), "through the copy", "via the passed descriptor")
  copy:close()
  fails("EINVAL", a:send_fds("", {x:fileno()}))
  local many = {}
  for i = 1, 254 do many[i] = x:fileno() end
  fails("EINVAL", a:send_fds("x", many))
  local c, s = tcp_pair()
  fails("EINVAL", c:send_fds("x", {x:fileno()}))
  assert(b:settimeout(0.1))
  fails("ETIMEDOUT", b:recv_fds(16, 1))
  local ok = pcall(a.send_fds, a, "x", {"nope"})
  assert(not ok, "a non-integer descriptor raises")
  for _, o in ipairs({a, b, x, y, c, s}) do o:close() end
end)

case("sendmsg gathers strings into one send", function()
  local a, b = assert(sk.socketpair())
  assert(b:settimeout(10))
  eq(a:sendmsg({"head:", "bo\0dy"}), 10, "bytes")
  eq(recv_exactly(b, 10), "head:bo\0dy", "data")
  eq(a:sendmsg({}), 0, "nothing")
  local ok = pcall(a.sendmsg, a, {1, 2})
  assert(not ok, "non-strings raise")
  a:close()
  fails("EBADF", a:sendmsg({"x"}))
  b:close()
end)

for _, c in ipairs(cases) do
  local ok, err = xpcall(c[2], debug.traceback)
  io.write(ok and "ok   " or "FAIL ", c[1], "\n")
  if not ok then
    io.write(err, "\n")
    failed = failed + 1
  end
end
io.write(string.format("%d tests, %d failed\n", #cases, failed))
os.exit(failed == 0 and 0 or 1)
