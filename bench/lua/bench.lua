-- socketkit vs LuaSocket from Lua, same workloads in one run, alternating,
-- printing LuaSocket time / socketkit time (> 1: socketkit is faster).
--
--   taskset -c 0 lua5.4 bench/lua/bench.lua [scale [workload...]]
--
-- Both ends of every workload use the same library: the parent process is
-- the measured side, a child lua5.4 (same script, --child) the peer. Pin
-- both to one CPU (taskset) so ping-pong measures per-call cost rather than
-- cross-CPU wake-ups. scale (default 1) multiplies the amounts.
local sk = require "socketkit"
local ls = require "socket"
local now = ls.gettime

local PINGS, BULK, LINES = 20000, 256 * 1024 * 1024, 2000000
local ROUNDS = 5
local MSG = string.rep("p", 64)
local CHUNK = 65536

-- ---------------------------------------------------------------- peers ---

local function child(lib, work, port, n)
  port, n = tonumber(port), tonumber(n)
  if lib == "sk" then
    local s = assert(sk.socket())
    assert(s:connect("127.0.0.1", port))
    if work == "pingpong_timeout" then assert(s:settimeout(5)) end
    if work:find("^pingpong") then
      for _ = 1, n do
        local d = assert(s:recv(64))
        while #d < 64 do d = d .. assert(s:recv(64 - #d)) end
        assert(s:sendall(d))
      end
    elseif work == "bulk" then
      local block = string.rep("b", CHUNK)
      for _ = 1, n // CHUNK do assert(s:sendall(block)) end
    elseif work == "readline" then
      local block = {}
      for i = 1, 1000 do block[i] = string.format("line %07d of the readline benchmark\n", i) end
      block = table.concat(block)
      for _ = 1, n // 1000 do assert(s:sendall(block)) end
    end
    s:close()
  else
    local c = assert(ls.connect("127.0.0.1", port))
    c:setoption("tcp-nodelay", false)
    if work == "pingpong_timeout" then c:settimeout(5) end
    if work:find("^pingpong") then
      for _ = 1, n do
        local d = assert(c:receive(64))
        assert(c:send(d))
      end
    elseif work == "bulk" then
      local block = string.rep("b", CHUNK)
      for _ = 1, n // CHUNK do assert(c:send(block)) end
    elseif work == "readline" then
      local block = {}
      for i = 1, 1000 do block[i] = string.format("line %07d of the readline benchmark\n", i) end
      block = table.concat(block)
      for _ = 1, n // 1000 do assert(c:send(block)) end
    end
    c:close()
  end
end

if arg[1] == "--child" then
  child(arg[2], arg[3], arg[4], arg[5])
  os.exit(0)
end

-- ------------------------------------------------------- measured side ---

local scale = tonumber(arg[1] or "1")
PINGS = math.floor(PINGS * scale)
BULK = math.floor(BULK * scale / CHUNK) * CHUNK
LINES = math.floor(LINES * scale / 1000) * 1000

local function spawn(lib, work, port, n)
  return assert(io.popen(string.format("%q %q --child %s %s %d %d", arg[-1], arg[0], lib, work, port, n)))
end

local run = {}

function run.sk(work, n)
  local l = assert(sk.socket())
  assert(l:bind("127.0.0.1", 0))
  assert(l:listen(1))
  local _, port = l:getsockname()
  local p = spawn("sk", work, port, n)
  local s = assert(l:accept())
  local t0 = now()
  local count = 0
  if work:find("^pingpong") then
    if work == "pingpong_timeout" then assert(s:settimeout(5)) end
    for _ = 1, n do
      assert(s:sendall(MSG))
      local d = assert(s:recv(64))
      while #d < 64 do d = d .. assert(s:recv(64 - #d)) end
    end
    count = n
  elseif work == "bulk" then
    while true do
      local d = assert(s:recv(CHUNK))
      if d == "" then break end
      count = count + #d
    end
  elseif work == "readline" then
    local f = assert(s:makefile("rb"))
    while true do
      local line = assert(f:readline())
      if line == "" then break end
      count = count + 1
    end
    f:close()
  end
  local t = now() - t0
  s:close() l:close() p:close()
  return t, count
end

function run.ls(work, n)
  local l = assert(ls.bind("127.0.0.1", 0))
  local _, port = l:getsockname()
  local p = spawn("ls", work, port, n)
  local c = assert(l:accept())
  local t0 = now()
  local count = 0
  if work:find("^pingpong") then
    if work == "pingpong_timeout" then c:settimeout(5) end
    for _ = 1, n do
      assert(c:send(MSG))
      assert(c:receive(64))
    end
    count = n
  elseif work == "bulk" then
    while true do
      local d, err, partial = c:receive(CHUNK)
      d = d or partial
      count = count + #d
      if err == "closed" then break end
      assert(d, err)
    end
  elseif work == "readline" then
    while true do
      local line, err = c:receive("*l")
      if not line then assert(err == "closed", err) break end
      count = count + 1
    end
  end
  local t = now() - t0
  c:close() l:close() p:close()
  return t, count
end

local workloads = {
  { "pingpong", PINGS, "round trips of 64 bytes, blocking" },
  { "pingpong_timeout", PINGS, "round trips of 64 bytes, 5 s timeout" },
  { "bulk", BULK, "bytes in 64 KiB chunks" },
  { "readline", LINES, "lines" },
}

local only = {}
for i = 2, #arg do only[arg[i]] = true end
if next(only) then
  for i = #workloads, 1, -1 do
    if not only[workloads[i][1]] then table.remove(workloads, i) end
  end
end

print(string.format("socketkit %s vs LuaSocket %s (%s), best of %d alternating rounds",
  sk.version(), ls._VERSION, _VERSION, ROUNDS))
print(string.format("%-18s %12s %12s %8s", "workload", "socketkit s", "LuaSocket s", "ratio"))
for _, w in ipairs(workloads) do
  local name, n = w[1], w[2]
  local best = { sk = math.huge, ls = math.huge }
  local lo, hi = math.huge, 0
  for _ = 1, ROUNDS do
    local this = {}
    for _, lib in ipairs { "sk", "ls" } do
      local t, count = run[lib](name, n)
      assert(count == n, string.format("%s %s: %d of %d", lib, name, count, n))
      if t < best[lib] then best[lib] = t end
      this[lib] = t
    end
    lo, hi = math.min(lo, this.ls / this.sk), math.max(hi, this.ls / this.sk)
  end
  print(string.format("%-18s %12.3f %12.3f %8.2f   (%d %s)", name, best.sk, best.ls,
    best.ls / best.sk, n, w[3]))
  -- The same result for bench/run.sh --report (format in bench/bench.h).
  print(string.format("bench\tlang=lua\tworkload=%s\tcase=socketkit vs LuaSocket\tratio=%.4f"
    .. "\tmin=%.4f\tmax=%.4f\tn=%d\tunit=%s", name, best.ls / best.sk, lo, hi, n, w[3]))
end
