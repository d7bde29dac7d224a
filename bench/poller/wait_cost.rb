# One Poller#wait finding 1 ready socket among 10,000 idle ones (UDP
# sockets, one with a datagram always queued), in process CPU time per
# wait; then nio4r's select over the same number of Ruby sockets. Target:
# at most nio4r's 1.28 us. Run pinned: taskset -c 0.
require "socketkit"
require "socket"
N = 10_000
WAITS = Integer(ARGV[0] || 20_000)
ROUNDS = 9

def cpu
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

def median_us(rounds)
  per = Array.new(rounds) do
    t0 = cpu
    WAITS.times { yield }
    (cpu - t0) / WAITS * 1e6
  end.sort
  [per[rounds / 2], per.first, per.last]
end

SK = SocketKit
p = SK::Poller.new
socks = Array.new(N) do |i|
  s = SK::Socket.new(SK::AF_INET, SK::SOCK_DGRAM)
  s.bind("127.0.0.1", 0)
  p.add(s, SK::POLLIN, i)
  s
end
sender = SK::Socket.new(SK::AF_INET, SK::SOCK_DGRAM)
sender.sendto("r", *socks[N / 2].getsockname)
raise "not ready" unless p.wait(10).size == 1

sk, lo, hi = median_us(ROUNDS) { p.wait }
puts format("ruby Poller#wait 1 ready of %d: %.2f us (median of %d rounds, spread %.2f-%.2f)", N, sk, ROUNDS, lo, hi)
socks.each(&:close)
sender.close

nio = nil
begin
  require "nio"
  sel = NIO::Selector.new
  rsocks = Array.new(N) do
    s = UDPSocket.new
    s.bind("127.0.0.1", 0)
    sel.register(s, :r)
    s
  end
  UDPSocket.new.send("r", 0, "127.0.0.1", rsocks[N / 2].addr[1])
  sleep 0.1
  nio, lo, hi = median_us(ROUNDS) { sel.select(nil) { |_m| } }
  puts format("ruby nio4r select 1 ready of %d: %.2f us (median of %d rounds, spread %.2f-%.2f)", N, nio, ROUNDS, lo, hi)
  rsocks.each(&:close)
rescue LoadError
  puts "ruby nio4r: not installed"
end
puts format("ratio %-26s %5.2f   target <= 1.28  %s", "ruby wait us (nio4r 1.28)", sk, sk <= 1.28 ? "ok" : "ABOVE TARGET")
puts format("ratio %-26s %5.2f   target <= 1.00  %s", "ruby wait / nio4r select", sk / nio, sk <= nio ? "ok" : "ABOVE TARGET") if nio
