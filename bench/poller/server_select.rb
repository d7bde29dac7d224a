# The echo benchmark's Ruby server on IO.select (Ruby's own sockets).
# Prints "listening on PORT"; serves until killed.
require "socket"
l = TCPServer.new("127.0.0.1", 0)
l.listen(4096)
puts "listening on #{l.addr[1]}"
$stdout.flush
readers = [l]
loop do
  ready, = IO.select(readers)
  ready.each do |s|
    if s.equal?(l)
      loop do
        c = l.accept_nonblock(exception: false)
        break if c == :wait_readable

        readers << c
      end
      next
    end
    data = s.read_nonblock(65_536, exception: false)
    next if data == :wait_readable

    if data.nil?
      readers.delete(s)
      s.close
    else
      s.write(data)
    end
  rescue SystemCallError
    readers.delete(s)
    s.close
  end
end
