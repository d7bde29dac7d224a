-- The Lua 5.1 / LuaJIT module: the same binding as Lua 5.4's, checked with
-- Lua 5.1 syntax (no <close>, no integer operators) over real sockets.
-- Usage: LUA_CPATH=<build>/bindings/lua51/?.so;; lua5.1|luajit test_socketkit51.lua
local sk = require "socketkit"

local failed, ran = 0, 0
local function test(name, fn)
  ran = ran + 1
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name .. "\n" .. tostring(err))
  end
end

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
  end
end

local function fails(errname, ok, msg, name)
  if ok ~= nil then error("expected failure " .. errname .. ", got " .. tostring(ok), 2) end
  if name ~= errname then
    error(string.format("expected %s, got %s (%s)", errname, tostring(name), tostring(msg)), 2)
  end
  if type(msg) ~= "string" or msg == "" then error("failure without a message", 2) end
end

local function tcp_pair()
  local l = assert(sk.socket())
  assert(l:bind("127.0.0.1", 0))
  assert(l:listen())
  local host, port = l:getsockname()
  local c = assert(sk.socket(sk.AF_INET, sk.SOCK_STREAM))
  assert(c:settimeout(10))
  assert(c:connect(host, port))
  local s, peer_host, peer_port = l:accept()
  assert(s, peer_host)
  eq(peer_host, "127.0.0.1", "peer host")
  eq(type(peer_port), "number", "peer port")
  l:close()
  return c, s
end

test("module: version, constants, errors by name", function()
  eq(sk.version(), assert(os.getenv("SKB_VERSION"), "SKB_VERSION is not set"), "version")
  eq(sk.AF_INET, 2, "AF_INET")
  eq(sk.SOCK_STREAM, 1, "SOCK_STREAM")
  eq(sk.constant("SO_REUSEADDR"), sk.SO_REUSEADDR, "constant()")
  eq(sk.errname(111), "ECONNREFUSED", "errname")
  eq(sk.getdefaulttimeout(), nil, "default timeout is None")
end)

test("TCP: connect, accept, sendall, recv, EOF", function()
  local c, s = tcp_pair()
  assert(c:sendall("hello\0world"))
  local got = ""
  while #got < 11 do got = got .. assert(s:recv(64)) end
  eq(got, "hello\0world", "bytes, NUL included")
  eq(c:send("x"), 1, "send count")
  eq(s:recv(1), "x", "one byte")
  assert(c:shutdown(sk.SHUT_WR))
  eq(s:recv(10), "", "EOF is the empty string")
  eq(s:fileno() >= 0, true, "fileno")
  c:close() s:close()
end)

test("failures: nil, message, errname; connect_ex returns the number", function()
  local c = assert(sk.socket())
  fails("ECONNREFUSED", c:connect("127.0.0.1", 1))
  local _, msg = c:connect("127.0.0.1", 1)
  assert(msg:find("127.0.0.1:1", 1, true), msg)
  c:close()
  c = assert(sk.socket())
  eq(c:connect_ex("127.0.0.1", 1), 111, "connect_ex")
  fails("EINVAL", c:bind("1.2.3.4.5", 0))
  fails("EINVAL", c:bind("127.0.0.1", 65536))
  c:close()
  fails("EBADF", c:recv(1))
  assert(c:close(), "closing twice is harmless")
end)

test("timeouts: ETIMEDOUT, gettimeout, non-blocking EAGAIN", function()
  local a, b = sk.socketpair()
  assert(a:settimeout(0.05))
  eq(a:gettimeout(), 0.05, "gettimeout")
  fails("ETIMEDOUT", a:recv(10))
  assert(a:settimeout(nil))
  eq(a:gettimeout(), nil, "blocking is nil")
  assert(a:setblocking(false))
  fails("EAGAIN", a:recv(10))
  eq(a:getblocking(), false, "getblocking")
  a:close() b:close()
end)

test("makefile: readline, read, write, flush", function()
  local a, b = sk.socketpair()
  local f = assert(a:makefile("rwb"))
  assert(b:sendall("one\ntwo\nrest"))
  eq(f:readline(), "one\n", "line 1")
  eq(f:readline(), "two\n", "line 2")
  eq(f:read(2), "re", "read(n)")
  assert(b:shutdown(sk.SHUT_WR))
  eq(f:read(), "st", "read() to EOF")
  eq(f:readline(), "", "readline at EOF")
  eq(f:write("out\n"), 4, "write count")
  assert(f:flush())
  eq(b:recv(10), "out\n", "flushed")
  assert(f:close())
  a:close() b:close()
end)

test("UDP: sendto, recvfrom", function()
  local r = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
  assert(r:bind("127.0.0.1", 0))
  local host, port = r:getsockname()
  local w = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
  eq(w:sendto("datagram", host, port), 8, "sendto count")
  assert(r:settimeout(5))
  local data, from_host, from_port = r:recvfrom(100)
  eq(data, "datagram", "datagram")
  eq(from_host, "127.0.0.1", "from host")
  eq(select(2, w:getsockname()), from_port, "from port")
  r:close() w:close()
end)

test("wrong argument types raise Lua errors", function()
  local s = assert(sk.socket())
  assert(not pcall(s.bind, s, {}, 0), "table as host")
  assert(not pcall(s.recv, s, "ten"), "string as size")
  assert(not pcall(s.recv, s, 1.5), "fraction as size")
  s:close()
end)

test("garbage collection closes forgotten descriptors", function()
  collectgarbage() collectgarbage()
  for _ = 1, 200 do sk.socket() end
  collectgarbage() collectgarbage()
  local s = assert(sk.socket())
  local fd = s:fileno()
  s = nil
  collectgarbage() collectgarbage()
  local probe = assert(sk.socket())
  assert(probe:fileno() <= fd, "the collected socket's descriptor was closed")
  probe:close()
end)

test("names: getaddrinfo, create_server, create_connection", function()
  local list = assert(sk.getaddrinfo("127.0.0.1", 80, sk.AF_INET, sk.SOCK_STREAM, 0, 0, 2))
  eq(list[1].host, "127.0.0.1", "host")
  eq(list[1].port, 80, "port")
  local srv = assert(sk.create_server("127.0.0.1", 0, {backlog = 4, reuse_port = true}))
  local _, port = srv:getsockname()
  local c = assert(sk.create_connection("127.0.0.1", port, 2.5))
  eq(c:gettimeout(), 2.5, "timeout")
  assert(srv:accept()):close()
  c:close() srv:close()
  assert(not pcall(sk.create_server, "127.0.0.1", 0, {backlog = 1.5}), "fraction as backlog")
end)

-- The misuse cases shared with the Lua 5.4 suite.
do
  local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  local tmpdir = os.tmpname()
  os.remove(tmpdir)
  assert(os.execute("mkdir -p " .. tmpdir))
  for _, c in ipairs(dofile(here .. "/misuse.lua")) do
    test(c[1], function() c[2](sk, tmpdir) end)
  end
  os.execute("rm -rf " .. tmpdir)
end

print(string.format("%d tests, %d failed", ran, failed))
os.exit(failed == 0 and 0 or 1)
