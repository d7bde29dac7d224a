-- Misuse that must fail cleanly, never crash: methods and metamethods called
-- with a wrong or missing self, and C-string arguments with a NUL inside.
-- Shared by the Lua 5.4 and the 5.1/LuaJIT suites (so written in Lua 5.1):
-- returns a list of {name, function(sk, tmpdir)} cases.

local function raises(what, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error(what .. ": expected an error", 2) end
  if type(err) ~= "string" or err == "" then
    error(what .. ": error without a message", 2)
  end
end

local function einval(what, ok, msg, name)
  if ok ~= nil or name ~= "EINVAL" or type(msg) ~= "string" or msg == "" then
    error(string.format("%s: got %s, %s, %s; want nil, message, EINVAL", what,
      tostring(ok), tostring(msg), tostring(name)), 2)
  end
end

local socket_methods = {
  "fileno", "detach", "bind", "listen", "accept", "connect", "connect_ex",
  "recv", "recvfrom", "send", "sendall", "sendto", "shutdown", "close",
  "getsockname", "getpeername", "setsockopt", "getsockopt", "settimeout",
  "gettimeout", "setblocking", "getblocking", "makefile",
}
local file_methods = { "read", "readline", "write", "flush", "close", "lines" }

local cases = {}

cases[#cases + 1] = { "wrong or missing self raises in every method and metamethod", function(sk)
  local s = assert(sk.socket())
  local a, b = assert(sk.socketpair())
  local f = assert(a:makefile("rw"))
  local bad = { { "nil", nil }, { "number", 42 }, { "string", "x" }, { "table", {} },
                { "io.stdout", io.stdout } }
  local function check(obj, other, methods)
    local mt = getmetatable(obj)
    local funcs = {}
    for _, m in ipairs(methods) do funcs[#funcs + 1] = { m, obj[m] } end
    for k, v in pairs(mt) do
      if type(v) == "function" then funcs[#funcs + 1] = { "metatable " .. k, v } end
    end
    for _, mf in ipairs(funcs) do
      local name, fn = mf[1], mf[2]
      assert(type(fn) == "function", name .. " is a function")
      raises(name .. "()", fn)
      raises(name .. "(other class)", fn, other, 1, 2)
      for _, bv in ipairs(bad) do
        raises(name .. "(" .. bv[1] .. ")", fn, bv[2], 1, 2)
      end
    end
  end
  check(s, f, socket_methods)
  check(f, s, file_methods)
  if sk.poller then
    local p = assert(sk.poller())
    check(p, s, { "add", "modify", "remove", "wait", "wakeup" })
    p.__gc(p)
    assert(select(3, p:wait(0)) == "EBADF")
  end
  -- The module and the class tables SWIG makes: their metamethods too.
  for _, t in ipairs({ sk, sk.Socket, sk.SocketFile, sk.Poller or sk }) do
    local mt = getmetatable(t)
    if mt then
      for k, v in pairs(mt) do
        if type(v) == "function" then
          raises("namespace " .. k .. "(nil)", v, nil, "x", 1)
          raises("namespace " .. k .. "(io.stdout)", v, io.stdout, "x", 1)
        end
      end
    end
  end
  if swig_equals then
    raises("swig_equals(nil, nil)", swig_equals, nil, nil)
    raises("swig_equals(io.stdout, s)", swig_equals, io.stdout, s)
    assert(swig_equals(s, s) == true)
  end
  if swig_type then raises("swig_type(io.stdout)", swig_type, io.stdout) end
  -- Still usable after all that.
  assert(b:sendall("still\n"))
  assert(f:readline() == "still\n")
  -- An explicit finaliser call frees the socket once; the object then
  -- answers EBADF like a collected one, and finalising again is harmless.
  local fd = s:fileno()
  assert(fd >= 0)
  s.__gc(s)
  s.__gc(s)
  local ok, msg, name = s:recv(1)
  assert(ok == nil and name == "EBADF", tostring(name))
  assert(tostring(s):find("collected"))
  f.__gc(f)
  assert(select(3, f:readline()) == "EBADF")
  a:close() b:close()
end }

cases[#cases + 1] = { "a NUL inside a C-string argument is EINVAL, never another name", function(sk, tmpdir)
  local s = assert(sk.socket())
  einval("bind", s:bind("127.0.0.1\0junk", 0))
  einval("connect", s:connect("127.0.0.1\0junk", 9))
  einval("connect_ex", s:connect_ex("127.0.0.1\0junk", 9))
  local _, port = s:getsockname()
  assert(port == 0, "the refused bind bound nothing")
  einval("makefile", s:makefile("w\0garbage"))
  einval("constant", sk.constant("AF_INET\0junk"))
  local u = assert(sk.socket(sk.AF_UNIX, sk.SOCK_DGRAM))
  local path = tmpdir .. "/nul.sock"
  einval("unix bind", u:bind(path .. "\0/etc/evil"))
  einval("unix connect", u:connect(path .. "\0/etc/evil"))
  einval("sendto", u:sendto("x", path .. "\0/etc/evil"))
  assert(io.open(path) == nil, "nothing was bound under the prefix")
  -- Without the NUL the same calls work.
  assert(u:bind(path))
  assert(u:getsockname() == path)
  assert(sk.constant("AF_INET") == sk.AF_INET)
  assert(assert(s:makefile("w")):close())
  u:close() s:close()
  os.remove(path)
end }

return cases
