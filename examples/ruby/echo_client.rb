# echo_client.rb HOST PORT MESSAGE
#
# Sends MESSAGE to an echo server (examples/echo_server), shuts down the
# sending side, reads the reply until the server closes, prints it, and
# exits 0 if the reply is exactly the message.
require "socketkit"

host, port, message = ARGV
unless host && port && message
  warn "usage: ruby echo_client.rb HOST PORT MESSAGE"
  exit 2
end

family = host.include?(":") ? SocketKit::AF_INET6 : SocketKit::AF_INET
begin
  reply = SocketKit::Socket.open(family, SocketKit::SOCK_STREAM) do |s|
    s.settimeout(10)
    s.connect(host, Integer(port))
    s.sendall(message)
    s.shutdown(SocketKit::SHUT_WR)
    buf = "".b
    while (data = s.recv(65_536)) != ""
      buf << data
    end
    buf
  end
rescue SystemCallError, SocketKit::ResolutionError => e
  warn "echo_client.rb: #{e.message} (#{e.class})"
  exit 1
end
puts reply
exit(reply == message.b ? 0 : 1)
