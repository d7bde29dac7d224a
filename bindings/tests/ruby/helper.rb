# Shared by the Ruby suites: loopback peers and a way to see that a thread
# is really inside a blocking system call before a test interrupts it.
require "minitest/autorun"
require "socketkit"
require "tmpdir"

module SKTestHelper
  SK = SocketKit

  # Heavy cases (16 MiB, 10,000 sockets) are left out under valgrind.
  def quick?
    ENV["SKB_QUICK"] == "1"
  end

  def listener(family = SK::AF_INET, backlog = 8)
    l = SK::Socket.new(family)
    l.setsockopt(SK::SOL_SOCKET, SK::SO_REUSEADDR, 1)
    l.bind(family == SK::AF_INET6 ? "::1" : "127.0.0.1", 0)
    l.listen(backlog)
    l
  end

  def tcp_pair(family = SK::AF_INET)
    l = listener(family)
    c = SK::Socket.new(family)
    c.connect(*l.getsockname)
    s, = l.accept
    l.close
    [c, s]
  end

  def recv_exactly(sock, n)
    buf = "".b
    while buf.bytesize < n
      d = sock.recv(n - buf.bytesize)
      break if d.empty?

      buf << d
    end
    buf
  end

  def fd_count
    Dir.children("/proc/self/fd").size
  end

  # x86_64 numbers of the calls a blocked binding sits in.
  SYSCALLS = { recvfrom: 45, sendto: 44, accept4: 288, connect: 42, poll: 7,
               ppoll: 271, epoll_wait: 232, epoll_pwait: 281, sendmsg: 46,
               recvmsg: 47 }.freeze

  # Waits (at most 5 s) until the thread is blocked in one of the given
  # system calls. Seeing it there from this thread also proves the blocked
  # thread released the GVL: otherwise this thread could not run at all.
  def wait_in_syscall(thread, *names)
    wanted = names.map { |n| SYSCALLS.fetch(n) }
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
    loop do
      tid = thread.native_thread_id # nil until the thread has started
      nr = tid && (File.read("/proc/self/task/#{tid}/syscall").split.first rescue nil)
      return true if nr && wanted.include?(nr.to_i)
      raise "thread never blocked in #{names.join('/')} (at #{nr})" if
        Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.01
    end
  end
end
