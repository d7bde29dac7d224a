# Loaded from an installed tree: the extension works end to end.
require "socketkit"
a, b = SocketKit.socketpair
a.sendall("installed\0ok")
raise "bad echo" unless b.recv(100) == "installed\0ok".b
raise "no TimeoutError" unless SocketKit::TimeoutError < Errno::ETIMEDOUT
puts "ruby extension from #{$LOADED_FEATURES.grep(/socketkit_ext/).first}"
