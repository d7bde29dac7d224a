# poller_echo_server.rb HOST PORT [MAX_CONNECTIONS]
#
# A TCP echo server on one thread with any number of clients at once: every
# socket is non-blocking and a SocketKit::Poller says which is ready. Sends
# back whatever each client sends; when a client shuts down its side, the
# rest of its echo goes out and the connection closes. With PORT 0 the
# kernel picks a port; the first line printed is "listening on HOST:PORT".
# Serves until killed, or until MAX_CONNECTIONS clients have been served.
require "socketkit"

host, port, max_clients = ARGV[0], ARGV[1], Integer(ARGV[2] || 0)
abort "usage: ruby poller_echo_server.rb HOST PORT [MAX_CONNECTIONS]" unless host && port

SK = SocketKit
family = host.include?(":") ? SK::AF_INET6 : SK::AF_INET
listener = SK::Socket.new(family, SK::SOCK_STREAM)
listener.setsockopt(SK::SOL_SOCKET, SK::SO_REUSEADDR, 1)
listener.bind(host, Integer(port))
listener.listen(SK::SOMAXCONN)
listener.settimeout(0)
poller = SK::Poller.new
poller.add(listener, SK::POLLIN, :listener)
h, p = listener.getsockname
puts(family == SK::AF_INET6 ? "listening on [#{h}]:#{p}" : "listening on #{h}:#{p}")
$stdout.flush

# Each client's data: the bytes its socket could not take yet, whether it
# shut down its side, and what the poller watches for it. Closing a socket
# takes it out of the poller.
Client = Struct.new(:unsent, :eof, :events)
finished = 0

send_some = lambda do |sock, state, data|
  n = begin
    sock.send(data)
  rescue Errno::EAGAIN
    0
  end
  state.unsent = n < data.bytesize ? data.byteslice(n..) : nil
end

until max_clients.positive? && finished >= max_clients
  poller.wait.each do |sock, _events, state|
    if state == :listener
      loop do
        conn, = listener.accept
        conn.settimeout(0)
        poller.add(conn, SK::POLLIN, Client.new(nil, false, SK::POLLIN))
      rescue Errno::EAGAIN
        break
      end
      next
    end
    begin
      if state.unsent
        send_some.call(sock, state, state.unsent)
      else
        data = sock.recv(16_384)
        if data.empty?
          state.eof = true
        else
          send_some.call(sock, state, data)
        end
      end
      if state.eof && !state.unsent
        sock.close
        finished += 1
      else
        # Room while bytes are pending, else data; the poller is told only
        # when that changes (most echoes go out at once).
        want = state.unsent ? SK::POLLOUT : SK::POLLIN
        if want != state.events
          poller.modify(sock, want, state)
          state.events = want
        end
      end
    rescue Errno::EAGAIN
      next
    rescue SystemCallError => e
      warn "poller_echo_server.rb: client: #{e.message}"
      sock.close
      finished += 1
    end
  end
end
puts "served #{finished} clients"
