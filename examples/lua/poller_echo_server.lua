-- poller_echo_server.lua HOST PORT [MAX_CONNECTIONS]
--
-- A TCP echo server on one thread with any number of clients at once:
-- every socket is non-blocking and a socketkit poller says which is ready.
-- Sends back whatever each client sends; when a client shuts down its side,
-- the rest of its echo goes out and the connection closes. With PORT 0 the
-- kernel picks a port; the first line printed is "listening on HOST:PORT".
-- Serves until killed, or until MAX_CONNECTIONS clients have been served.
local sk = require "socketkit"

local host, port, max_clients = arg[1], tonumber(arg[2]), tonumber(arg[3] or "0")
if not (host and port) then
  io.stderr:write("usage: lua5.4 poller_echo_server.lua HOST PORT [MAX_CONNECTIONS]\n")
  os.exit(2)
end

local function check(ok, msg, errname)
  if not ok then
    io.stderr:write("poller_echo_server.lua: ", msg, " (", errname, ")\n")
    os.exit(1)
  end
  return ok
end

local family = host:find(":", 1, true) and sk.AF_INET6 or sk.AF_INET
local listener = check(sk.socket(family, sk.SOCK_STREAM))
check(listener:setsockopt(sk.SOL_SOCKET, sk.SO_REUSEADDR, 1))
check(listener:bind(host, port))
check(listener:listen(sk.SOMAXCONN))
check(listener:settimeout(0))
local poller = check(sk.poller())
check(poller:add(listener, sk.POLLIN, "listener"))
local h, p = listener:getsockname()
print(string.format(family == sk.AF_INET6 and "listening on [%s]:%d" or "listening on %s:%d", h, p))
io.stdout:flush()

-- Each client's data value: { unsent = bytes its socket could not take yet,
-- eof = it shut down its side, events = what the poller watches for it }.
-- Closing a socket takes it out of the poller.
local finished = 0

local function done(sock, why)
  if why then io.stderr:write("poller_echo_server.lua: client: ", why, "\n") end
  sock:close()
  finished = finished + 1
end

local function send_some(sock, state, data)
  local n, msg, errname = sock:send(data)
  if not n then
    if errname ~= "EAGAIN" then return nil, msg end
    n = 0
  end
  state.unsent = n < #data and data:sub(n + 1) or nil
  return true
end

local function on_client(sock, state, events)
  local ok, why = true, nil
  if state.unsent then
    ok, why = send_some(sock, state, state.unsent)
  else
    local data, msg, errname = sock:recv(16384)
    if not data then
      if errname == "EAGAIN" then return end
      ok, why = false, msg
    elseif data == "" then
      state.eof = true
    else
      ok, why = send_some(sock, state, data)
    end
  end
  if not ok then return done(sock, why) end
  if state.eof and not state.unsent then return done(sock) end
  -- Room while bytes are pending, else data; the poller is told only when
  -- that changes (most echoes go out at once).
  local want = state.unsent and sk.POLLOUT or sk.POLLIN
  if want ~= state.events then
    local _, msg = poller:modify(sock, want, state)
    if msg then return done(sock, msg) end
    state.events = want
  end
end

while max_clients == 0 or finished < max_clients do
  for _, ev in ipairs(check(poller:wait())) do
    if ev.data == "listener" then
      while true do
        local conn = listener:accept()
        if not conn then break end -- EAGAIN: no more waiting
        check(conn:settimeout(0))
        check(poller:add(conn, sk.POLLIN, { events = sk.POLLIN }))
      end
    else
      on_client(ev.socket, ev.data, ev.events)
    end
  end
end
print(string.format("served %d clients", finished))
