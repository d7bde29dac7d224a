-- Loaded from an installed tree: the module works end to end.
local sk = require "socketkit"
local a, b = assert(sk.socketpair())
assert(a:sendall("installed\0ok"))
assert(b:recv(100) == "installed\0ok")
assert(math.type(a:fileno()) == "integer")
print("lua module from " .. package.searchpath("socketkit", package.cpath))
