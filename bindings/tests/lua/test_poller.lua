-- The Lua poller: socketkit.poller() with add/modify/remove/wait/wakeup over
-- real sockets, the same objects handed back, sockets kept alive while
-- registered, closed ones never reported, f:buffered(). Usage: lua5.4
-- test_poller.lua [quick]; "quick" leaves out the 10,000-socket case.
local sk = require "socketkit"

local tests, order, heavy = {}, {}, {}
local function test(name, fn, is_heavy)
  tests[name] = fn
  order[#order + 1] = name
  heavy[name] = is_heavy
end

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

local function fails(errname, ok, msg, name)
  if ok ~= nil then error("expected failure " .. errname .. ", got " .. tostring(ok), 2) end
  if name ~= errname then
    error(string.format("expected %s, got %s (%s)", errname, tostring(name), tostring(msg)), 2)
  end
end

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error matching " .. pattern, 2) end
  if not tostring(err):find(pattern) then error("error " .. tostring(err) .. " does not match " .. pattern, 2) end
end

local function pair()
  local a, b = assert(sk.socketpair())
  assert(a:settimeout(0))
  assert(b:settimeout(0))
  return a, b
end

local BOUND = 10 -- seconds: only catches a hang

test("constants are integers; POLLET is bit 31", function()
  for _, name in ipairs { "POLLIN", "POLLOUT", "POLLERR", "POLLHUP", "POLLET" } do
    eq(math.type(sk[name]), "integer", name)
  end
  eq(sk.POLLET, 1 << 31, "POLLET")
  eq(sk.constant("POLLET"), -(1 << 31), "constant('POLLET')")
end)

test("level-triggered: the same socket and data until read", function()
  local p = assert(sk.poller())
  local a, b = pair()
  local data = { "mine" }
  assert(p:add(a, sk.POLLIN, data))
  local ev = assert(p:wait(0))
  eq(type(ev), "table") ; eq(#ev, 0, "nothing ready is {}")
  assert(b:sendall("x"))
  for _ = 1, 2 do
    ev = assert(p:wait(BOUND))
    eq(#ev, 1, "events")
    assert(rawequal(ev[1].socket, a), "the same socket object")
    assert(rawequal(ev[1].data, data), "the same data value")
    eq(ev[1].fd, a:fileno(), "fd")
    eq(math.type(ev[1].fd), "integer")
    eq(ev[1].events, sk.POLLIN, "events")
  end
  eq(a:recv(10), "x")
  eq(#assert(p:wait(0)), 0)
end)

test("edge-triggered registration", function()
  local p = assert(sk.poller())
  local a, b = pair()
  assert(p:add(a, sk.POLLIN | sk.POLLET))
  assert(b:sendall("x"))
  eq(#assert(p:wait(BOUND)), 1)
  eq(#assert(p:wait(0)), 0, "the edge is gone")
end)

test("modify changes events and data; remove; EEXIST and ENOENT", function()
  local p = assert(sk.poller())
  local a, b = pair()
  assert(p:add(a, sk.POLLOUT, 1))
  fails("EEXIST", p:add(a, sk.POLLIN))
  fails("ENOENT", p:modify(b, sk.POLLIN))
  fails("ENOENT", p:remove(b))
  local ev = assert(p:wait(0))
  eq(ev[1].data, 1)
  assert(p:modify(a, sk.POLLIN, "two"))
  eq(#assert(p:wait(0)), 0)
  assert(b:sendall("y"))
  ev = assert(p:wait(BOUND))
  eq(ev[1].data, "two")
  assert(p:remove(a))
  fails("ENOENT", p:remove(a))
  eq(#assert(p:wait(0)), 0)
  fails("EINVAL", p:add(a, 0x2)) -- EPOLLPRI is not ours
end)

test("a raw descriptor: events have no socket field", function()
  local p = assert(sk.poller())
  local a, b = pair()
  local fd = assert(a:detach())
  assert(p:add(fd, sk.POLLIN, "raw"))
  assert(b:sendall("z"))
  local ev = assert(p:wait(BOUND))
  eq(#ev, 1)
  eq(ev[1].socket, nil, "socket field")
  eq(ev[1].fd, fd)
  eq(ev[1].data, "raw")
  assert(p:modify(fd, sk.POLLIN, "raw2"))
  eq(assert(p:wait(BOUND))[1].data, "raw2")
  assert(p:remove(fd))
  local s = assert(sk.from_fd(fd)) -- closes it when collected
  s:close()
end)

test("wakeup is kept for the next wait", function()
  local p = assert(sk.poller())
  assert(p:wakeup())
  eq(#assert(p:wait()), 0, "wait() without timeout returns at once")
  eq(#assert(p:wait(0.05)), 0)
end)

test("a registered socket stays alive while only the poller holds it", function()
  local p = assert(sk.poller())
  local peer
  do
    local a, b = pair()
    assert(p:add(a, sk.POLLIN, "kept"))
    peer = b
  end
  collectgarbage()
  collectgarbage()
  assert(peer:sendall("still there"))
  local ev = assert(p:wait(BOUND))
  eq(#ev, 1)
  eq(ev[1].data, "kept")
  eq(ev[1].socket:recv(100), "still there")
end)

test("a closed socket is never reported; remove then says EBADF", function()
  local p = assert(sk.poller())
  local a, b = pair()
  assert(p:add(a, sk.POLLIN))
  local f = assert(a:makefile("rb")) -- keeps the descriptor open
  assert(b:sendall("x"))
  assert(a:close())
  eq(#assert(p:wait(0)), 0)
  fails("EBADF", p:remove(a))
  fails("EBADF", p:add(a, sk.POLLIN))
  f:close()
end)

test("POLLHUP comes unasked", function()
  local p = assert(sk.poller())
  local a, b = pair()
  assert(p:add(a, 0))
  b:close()
  local ev = assert(p:wait(BOUND))
  eq(#ev, 1)
  assert(ev[1].events & sk.POLLHUP ~= 0, "POLLHUP")
end)

test("bad arguments raise; collected pollers answer EBADF", function()
  local p = assert(sk.poller())
  raises("socket or a descriptor", p.add, p, "nope", sk.POLLIN)
  raises("events", p.add, p, 3, "x")
  raises("timeout", p.wait, p, "soon")
  raises("poller", p.wait, 42)
  fails("EINVAL", p:wait(-5))
  fails("EINVAL", p:add(-1, sk.POLLIN))
  local a = pair()
  a:close()
  fails("EBADF", p:add(a, sk.POLLIN))
end)

test("f:buffered() counts what the file holds", function()
  local a, b = assert(sk.socketpair())
  assert(a:settimeout(BOUND))
  local f = assert(a:makefile("rb"))
  eq(f:buffered(), 0)
  assert(b:sendall("one\ntwo\n"))
  eq(f:readline(), "one\n")
  local n = f:buffered()
  eq(n, 4) ; eq(math.type(n), "integer")
  f:close()
  fails("EBADF", f:buffered())
end)

test("pollers are collected with their descriptors", function()
  local function fds()
    local n = 0
    for _ in io.popen("ls /proc/self/fd"):lines() do n = n + 1 end
    return n
  end
  collectgarbage()
  local before = fds()
  for _ = 1, 200 do
    local p = assert(sk.poller())
    local a, b = pair()
    assert(p:add(a, sk.POLLIN, { b }))
  end
  collectgarbage()
  collectgarbage()
  eq(fds(), before, "descriptors after collection")
end)

test("10,000 sockets in one poller", function()
  local p = assert(sk.poller())
  local socks = {}
  for i = 1, 10000 do
    local s = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
    assert(s:settimeout(0))
    assert(s:bind("127.0.0.1", 0))
    assert(p:add(s, sk.POLLIN, i))
    socks[i] = s
  end
  local sender = assert(sk.socket(sk.AF_INET, sk.SOCK_DGRAM))
  local _, port = socks[9999]:getsockname()
  assert(sender:sendto("d", "127.0.0.1", port))
  local ev = assert(p:wait(BOUND))
  eq(#ev, 1)
  eq(ev[1].data, 9999)
  assert(rawequal(ev[1].socket, socks[9999]))
  for _, s in ipairs(socks) do s:close() end
end, true)

local quick = arg[1] == "quick"
local failed, ran = 0, 0
for _, name in ipairs(order) do
  if not (quick and heavy[name]) then
    ran = ran + 1
    local ok, err = xpcall(tests[name], debug.traceback)
    io.write(ok and "ok   " or "FAIL ", name, "\n")
    if not ok then
      io.write(err, "\n")
      failed = failed + 1
    end
  end
end
io.write(string.format("%d tests, %d failed\n", ran, failed))
os.exit(failed == 0 and ran > 0 and 0 or 1)
