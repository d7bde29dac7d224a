-- LuaRocks package of the Lua module. Build from this directory against an
-- installed libsocketkit:
--   luarocks make socketkit-1.0.0-1.rockspec SOCKETKIT_DIR=/usr/local
-- SWIG generates the wrapper during the build, as in the CMake build.
rockspec_format = "3.0"
package = "socketkit"
version = "1.0.0-1"
source = {
   url = "file://.",
}
description = {
   summary = "Sockets with Python's socket semantics, over the socketkit C library",
   detailed = [[
socket(), socketpair(), bind/listen/accept/connect, recv/send/sendall,
recvfrom/sendto, timeouts (nil = blocking), makefile with readline.
Failures return nil, message, errname.]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.4",
}
external_dependencies = {
   SOCKETKIT = {
      header = "socketkit.h",
      library = "socketkit",
   },
}
build = {
   type = "command",
   build_command = [[swig -lua -I$(SOCKETKIT_INCDIR) -I. -o socketkit_lua_wrap.c socketkit.i && ]] ..
      [[$(CC) $(CFLAGS) -I$(LUA_INCDIR) -I$(SOCKETKIT_INCDIR) -I. -c socketkit_lua_wrap.c -o socketkit_lua_wrap.o && ]] ..
      [[$(LD) $(LIBFLAG) -o socketkit.so socketkit_lua_wrap.o -L$(SOCKETKIT_LIBDIR) -lsocketkit -Wl,-rpath,$(SOCKETKIT_LIBDIR)]],
   install = {
      lib = {
         socketkit = "socketkit.so",
      },
   },
}
