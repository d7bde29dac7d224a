# The echo benchmark's Ruby server on SocketKit::Poller (one thread).
# Prints "listening on PORT"; serves until killed.
require "socketkit"
SK = SocketKit
l = SK::Socket.new
l.setsockopt(SK::SOL_SOCKET, SK::SO_REUSEADDR, 1)
l.bind("127.0.0.1", 0)
l.listen(SK::SOMAXCONN)
l.settimeout(0)
p = SK::Poller.new
p.add(l, SK::POLLIN, :listener)
puts "listening on #{l.getsockname[1]}"
$stdout.flush
loop do
  p.wait.each do |s, _events, data|
    if data == :listener
      loop do
        c, = l.accept
        c.settimeout(0)
        p.add(c, SK::POLLIN)
      rescue Errno::EAGAIN
        break
      end
      next
    end
    begin
      buf = s.recv(65_536)
      if buf.empty?
        s.close
      else
        s.sendall(buf)
      end
    rescue Errno::EAGAIN
      next
    rescue SystemCallError
      s.close
    end
  end
end
