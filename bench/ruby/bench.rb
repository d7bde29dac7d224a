# socketkit vs Ruby's socket library, same workloads in one run,
# alternating, printing Ruby socket time / socketkit time (> 1: socketkit is
# faster).
#
#   taskset -c 0 ruby bench/ruby/bench.rb [scale [workload...]]
#
# The parent process is the measured side, a child ruby (this script with
# --child) the peer, both using the same library. Pin both to one CPU so
# ping-pong measures per-call cost rather than cross-CPU wake-ups.
# Timeout mode for Ruby's sockets is what Ruby 3.1 code writes:
# recv_nonblock, then wait_readable(timeout) on EAGAIN.
require "socketkit"
require "socket"

PINGS = 20_000
BULK = 256 * 1024 * 1024
LINES = 2_000_000
ROUNDS = 5
MSG = ("p" * 64).b
CHUNK = 65_536

def line_block
  (1..1000).map { |i| format("line %07d of the readline benchmark\n", i) }.join.b
end

def child(lib, work, port, n)
  if lib == "sk"
    s = SocketKit::Socket.new
    s.connect("127.0.0.1", port)
    s.settimeout(5) if work == "pingpong_timeout"
    case work
    when /\Apingpong/
      n.times do
        d = s.recv(64)
        d << s.recv(64 - d.bytesize) while d.bytesize < 64
        s.sendall(d)
      end
    when "bulk"
      block = ("b" * CHUNK).b
      (n / CHUNK).times { s.sendall(block) }
    when "readline"
      block = line_block
      (n / 1000).times { s.sendall(block) }
    end
    s.close
  else
    s = TCPSocket.new("127.0.0.1", port)
    case work
    when "pingpong"
      n.times do
        d = s.recv(64)
        d << s.recv(64 - d.bytesize) while d.bytesize < 64
        s.write(d)
      end
    when "pingpong_timeout"
      n.times do
        d = recv_timeout(s, 64)
        d << recv_timeout(s, 64 - d.bytesize) while d.bytesize < 64
        s.write(d)
      end
    when "bulk"
      block = ("b" * CHUNK).b
      (n / CHUNK).times { s.write(block) }
    when "readline"
      block = line_block
      (n / 1000).times { s.write(block) }
    end
    s.close
  end
end

def recv_timeout(sock, n)
  sock.recv_nonblock(n)
rescue IO::WaitReadable
  raise "timeout" unless sock.wait_readable(5)

  retry
end

if ARGV[0] == "--child"
  child(ARGV[1], ARGV[2], Integer(ARGV[3]), Integer(ARGV[4]))
  exit 0
end

def spawn_child(lib, work, port, n)
  IO.popen([RbConfig.ruby, __FILE__, "--child", lib, work, port.to_s, n.to_s])
end

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def run_sk(work, n)
  l = SocketKit::Socket.new
  l.bind("127.0.0.1", 0)
  l.listen(1)
  child = spawn_child("sk", work, l.getsockname[1], n)
  s, = l.accept
  count = 0
  t0 = clock
  case work
  when /\Apingpong/
    s.settimeout(5) if work == "pingpong_timeout"
    n.times do
      s.sendall(MSG)
      d = s.recv(64)
      d << s.recv(64 - d.bytesize) while d.bytesize < 64
    end
    count = n
  when "bulk"
    while (d = s.recv(CHUNK)) != ""
      count += d.bytesize
    end
  when "readline"
    f = s.makefile("rb")
    count += 1 while f.gets
    f.close
  end
  t = clock - t0
  [s, l].each(&:close)
  child.close
  [t, count]
end

def run_rb(work, n)
  l = TCPServer.new("127.0.0.1", 0)
  child = spawn_child("rb", work, l.addr[1], n)
  s = l.accept
  count = 0
  t0 = clock
  case work
  when "pingpong"
    n.times do
      s.write(MSG)
      d = s.recv(64)
      d << s.recv(64 - d.bytesize) while d.bytesize < 64
    end
    count = n
  when "pingpong_timeout"
    n.times do
      s.write(MSG)
      d = recv_timeout(s, 64)
      d << recv_timeout(s, 64 - d.bytesize) while d.bytesize < 64
    end
    count = n
  when "bulk"
    while (d = s.recv(CHUNK)) != ""
      count += d.bytesize
    end
  when "readline"
    count += 1 while s.gets
  end
  t = clock - t0
  [s, l].each(&:close)
  child.close
  [t, count]
end

scale = Float(ARGV[0] || 1)
workloads = [
  ["pingpong", (PINGS * scale).to_i, "round trips of 64 bytes, blocking"],
  ["pingpong_timeout", (PINGS * scale).to_i, "round trips of 64 bytes, 5 s timeout"],
  ["bulk", (BULK * scale / CHUNK).to_i * CHUNK, "bytes in 64 KiB chunks"],
  ["readline", (LINES * scale / 1000).to_i * 1000, "lines"],
]

only = ARGV.drop(1)
workloads.select! { |name, *| only.include?(name) } unless only.empty?

puts "socketkit #{SocketKit.version} vs Ruby #{RUBY_VERSION} socket, best of #{ROUNDS} alternating rounds"
puts format("%-18s %12s %12s %8s", "workload", "socketkit s", "socket s", "ratio")
workloads.each do |name, n, what|
  best = { sk: Float::INFINITY, rb: Float::INFINITY }
  ratios = []
  ROUNDS.times do
    this = {}
    { sk: method(:run_sk), rb: method(:run_rb) }.each do |lib, fn|
      t, count = fn.call(name, n)
      raise "#{lib} #{name}: #{count} of #{n}" unless count == n

      best[lib] = t if t < best[lib]
      this[lib] = t
    end
    ratios << this[:rb] / this[:sk]
  end
  puts format("%-18s %12.3f %12.3f %8.2f   (%d %s)", name, best[:sk], best[:rb],
              best[:rb] / best[:sk], n, what)
  # The same result for bench/run.sh --report (format in bench/bench.h).
  puts format("bench\tlang=ruby\tworkload=%s\tcase=socketkit vs Ruby socket\tratio=%.4f" \
              "\tmin=%.4f\tmax=%.4f\tn=%d\tunit=%s", name, best[:rb] / best[:sk],
              ratios.min, ratios.max, n, what)
end
