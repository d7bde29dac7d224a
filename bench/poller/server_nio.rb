# The echo benchmark's Ruby server on nio4r (epoll through libev).
# Prints "listening on PORT"; serves until killed.
require "socket"
require "nio"
l = TCPServer.new("127.0.0.1", 0)
l.listen(4096)
puts "listening on #{l.addr[1]}"
$stdout.flush
selector = NIO::Selector.new
selector.register(l, :r)
loop do
  selector.select do |m|
    io = m.io
    if io.equal?(l)
      loop do
        c = l.accept_nonblock(exception: false)
        break if c == :wait_readable

        selector.register(c, :r)
      end
      next
    end
    begin
      data = io.read_nonblock(65_536, exception: false)
      next if data == :wait_readable

      if data.nil?
        selector.deregister(io)
        io.close
      else
        io.write(data)
      end
    rescue SystemCallError
      selector.deregister(io)
      io.close
    end
  end
end
