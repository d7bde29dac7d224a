# Blocking calls release the GVL and stay interruptible: Thread#kill,
# Thread#raise, Timeout.timeout and Ctrl-C stop a call blocked on a silent
# peer. Every wait is bounded; no assertion depends on how fast anything is.
require_relative "helper"
require "timeout"
require "rbconfig"

class TestThreads < Minitest::Test
  include SKTestHelper

  JOIN = 10 # seconds: a liveness bound, not a speed requirement

  # Each case: a proc that blocks forever on a silent peer, the syscalls
  # it blocks in, and what to close afterwards.
  def blocked_recv
    a, b = SK.socketpair
    [-> { a.recv(10) }, %i[recvfrom], [a, b]]
  end

  def blocked_recv_timeout_mode
    a, b = SK.socketpair
    a.settimeout(60)
    [-> { a.recv(10) }, %i[recvfrom], [a, b]]
  end

  def blocked_accept
    l = listener
    [-> { l.accept }, %i[accept4], [l]]
  end

  def blocked_readline
    a, b = SK.socketpair
    f = a.makefile("rb")
    [-> { f.readline }, %i[recvfrom], [a, b, f]]
  end

  # A listener with a full backlog never answers the SYN, so a connect to
  # it waits: [listener, the connections that fill its queue].
  def full_listener
    l = listener(SK::AF_INET, 0)
    fillers = Array.new(3) do
      s = SK::Socket.new
      s.setblocking(false)
      begin
        s.connect(*l.getsockname)
      rescue Errno::EINPROGRESS
        nil
      end
      s
    end
    [l, fillers]
  end

  def blocked_connect
    l, fillers = full_listener
    c = SK::Socket.new
    [-> { c.connect(*l.getsockname) }, %i[connect poll ppoll], [l, c, *fillers]]
  end

  # Happy Eyeballs waits in ppoll on its attempts; the call's own timeout
  # is far beyond the watchdog, so only an interrupt ends it in time.
  def blocked_create_connection
    l, fillers = full_listener
    port = l.getsockname[1]
    [-> { SK::Socket.create_connection("127.0.0.1", port, timeout: 60) }, %i[ppoll],
     [l, *fillers]]
  end

  def blocked_sendall
    a, b = SK.socketpair
    big = "z" * (64 << 20)
    [-> { a.sendall(big) }, %i[sendto], [a, b]]
  end

  CASES = %i[blocked_recv blocked_recv_timeout_mode blocked_accept
             blocked_readline blocked_connect blocked_create_connection
             blocked_sendall].freeze

  def start_blocked(kind)
    call, syscalls, closers = send(kind)
    result = Queue.new
    t = Thread.new do
      call.call
      result << :returned
    rescue Exception => e # rubocop:disable Lint/RescueException
      result << e
      raise
    end
    t.report_on_exception = false
    wait_in_syscall(t, *syscalls)
    [t, result, closers]
  end

  # If an interrupt fails to stop a call, closing its socket from here
  # still wakes it (EBADF), so a failing test ends by itself instead of
  # hanging the process at exit.
  def with_watchdog(closers)
    fired = false
    dog = Thread.new do
      sleep JOIN
      fired = true
      closers.each(&:close)
    end
    yield
    refute fired, "the interrupt did not stop the call; the watchdog closed its socket"
  ensure
    dog.kill
    dog.join
    closers.each(&:close)
  end

  CASES.each do |kind|
    define_method("test_gvl_released_and_kill_#{kind}") do
      t, _result, closers = start_blocked(kind)
      # This thread running while the other is blocked shows the GVL is free.
      # Outside the watchdog: each Thread.pass is a sched_yield, and on a
      # loaded machine 1000 of them took longer than the watchdog's bound
      # (which then closed the socket under the blocked call). Were the GVL
      # held, the watchdog, a Ruby thread, could not run anyway.
      counter = 0
      1000.times { counter += 1; Thread.pass }
      assert_equal 1000, counter
      with_watchdog(closers) do
        assert t.alive?
        t.kill
        assert_same t, t.join(JOIN), "Thread#kill did not stop #{kind}"
        refute t.alive?
      end
    end

    define_method("test_raise_#{kind}") do
      t, result, closers = start_blocked(kind)
      with_watchdog(closers) do
        t.raise(ArgumentError, "stop it")
        assert_raises(ArgumentError) { t.join(JOIN) }
        e = result.pop
        assert_instance_of ArgumentError, e
        assert_equal "stop it", e.message
      end
    end

    define_method("test_timeout_#{kind}") do
      call, _syscalls, closers = send(kind)
      with_watchdog(closers) do
        assert_raises(Timeout::Error) { Timeout.timeout(0.2) { call.call } }
      end
    end
  end

  # A signal whose trap returns normally interrupts the call; the binding
  # runs the trap and goes back to waiting, so no data and no error is lost.
  def test_trap_that_returns_resumes_the_call
    a, b = SK.socketpair
    trapped = Queue.new
    old = trap("USR1") { trapped << true }
    t = Thread.new { a.recv(10) }
    wait_in_syscall(t, :recvfrom)
    Process.kill("USR1", Process.pid)
    trapped.pop
    b.sendall("after trap")
    assert_equal "after trap", t.value
    [a, b].each(&:close)
  ensure
    trap("USR1", old || "DEFAULT")
  end

  # Two threads blocked at once do not stop a third from talking.
  def test_blocked_threads_do_not_stop_others
    pairs = Array.new(2) { SK.socketpair }
    blocked = pairs.map { |a, _| Thread.new { a.recv(10) } }
    blocked.each { |t| wait_in_syscall(t, :recvfrom) }
    c, s = tcp_pair
    100.times do |i|
      c.sendall("ping #{i}")
      assert_equal "ping #{i}", s.recv(100)
    end
    pairs.each_with_index { |(_, b), i| b.sendall("wake #{i}") }
    assert_equal ["wake 0", "wake 1"], blocked.map(&:value)
    (pairs.flatten + [c, s]).each(&:close)
  end

  # One thread may receive while another sends on the same socket, and a
  # close from another thread wakes a blocked recv with EBADF.
  def test_close_from_another_thread_wakes_recv
    a, b = SK.socketpair
    t = Thread.new { a.recv(10) }
    t.report_on_exception = false
    wait_in_syscall(t, :recvfrom)
    a.close
    assert_raises(Errno::EBADF) { t.join(JOIN) }
    b.close
  end

  # Children whose only thread is blocked in recv (the binding then keeps
  # the GVL): SIGINT raises Interrupt there, and a trap that returns lets
  # the call go on and receive what comes next.
  def wait_child_in_recv(pid, tid)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
    until (File.read("/proc/#{pid}/task/#{tid}/syscall").split.first.to_i rescue -1) ==
          SYSCALLS[:recvfrom]
      flunk "child never blocked in recv" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.01
    end
  end

  # Alone, the binding keeps the GVL; with a second thread it releases it.
  { "alone" => "", "with_another_thread" => "Thread.new { sleep }" }.each do |name, extra|
    define_method("test_ctrl_c_interrupts_a_blocked_call_#{name}") do
      script = <<~RUBY
        require "socketkit"
        #{extra}
        a, b = SocketKit.socketpair
        $stdout.puts Thread.current.native_thread_id
        $stdout.flush
        begin
          a.recv(10)
          puts "returned"
        rescue Interrupt
          puts "interrupted"
        end
      RUBY
      io = IO.popen([RbConfig.ruby, "-e", script], "r+")
      begin
        wait_child_in_recv(io.pid, io.gets.to_i)
        Process.kill("INT", io.pid)
        refute_nil IO.select([io], nil, nil, JOIN), "child did not react to SIGINT"
        assert_equal "interrupted", io.gets&.chomp
      ensure
        Process.kill("KILL", io.pid) rescue nil
        io.close
      end
    end
  end

  def test_trap_that_returns_resumes_a_lone_thread
    script = <<~RUBY
      require "socketkit"
      a, b = SocketKit.socketpair
      trap("USR1") { $stdout.puts "trapped"; $stdout.flush; b.sendall("after usr1") }
      $stdout.puts Thread.current.native_thread_id
      $stdout.flush
      $stdout.puts a.recv(10)
    RUBY
    io = IO.popen([RbConfig.ruby, "-e", script], "r+")
    begin
      wait_child_in_recv(io.pid, io.gets.to_i)
      Process.kill("USR1", io.pid)
      refute_nil IO.select([io], nil, nil, JOIN), "child did not run its trap"
      assert_equal "trapped", io.gets&.chomp
      refute_nil IO.select([io], nil, nil, JOIN), "recv did not resume"
      assert_equal "after usr1", io.gets&.chomp
    ensure
      Process.kill("KILL", io.pid) rescue nil
      io.close
    end
  end

  # One SocketFile read by several threads at once: each call has the file
  # to itself (a per-file Mutex held across the GVL release), so every line
  # arrives whole and exactly once, whatever the interleaving.
  %i[readline read].each do |how|
    define_method("test_threads_share_one_file_#{how}") do
      a, b = SK.socketpair
      a.settimeout(JOIN)
      f = a.makefile("rb")
      lines = Array.new(4000) { |i| format("line %05d %s\n", i, "x" * (i % 50)) }
      writer = Thread.new do
        lines.each_slice(100) { |s| b.sendall(s.join) }
        b.shutdown(SK::SHUT_WR)
      end
      readers = Array.new(4) do
        Thread.new do
          got = []
          loop do
            piece = how == :readline ? f.readline : f.read(7)
            break if piece.empty?

            got << piece
          end
          got
        end
      end
      pieces = readers.map { |t| t.join(JOIN * 3)&.value }
      writer.join(JOIN)
      refute_includes pieces, nil, "a reader never finished"
      if how == :readline
        assert_equal lines.sort, pieces.flatten.sort
      else
        assert_equal lines.join.bytesize, pieces.flatten.sum(&:bytesize)
        assert pieces.flatten.all? { |p| p.bytesize == 7 || p.bytesize == lines.join.bytesize % 7 }
      end
    ensure
      f&.close
      [a, b].each { |s| s&.close }
    end
  end

  # A thread waiting for the file's lock is still interruptible, and the
  # file serves the next caller once the holder is done.
  def test_waiting_for_a_busy_file_can_be_killed
    a, b = SK.socketpair
    f = a.makefile("rwb")
    holder = Thread.new { f.readline }
    wait_in_syscall(holder, :recvfrom)
    waiter = Thread.new { f.readline }
    200.times { break if waiter.status == "sleep"; sleep 0.01 }
    assert_equal "sleep", waiter.status, "the second reader waits for the lock"
    waiter.kill
    assert_same waiter, waiter.join(JOIN)
    b.sendall("first\nsecond\n")
    assert_equal "first\n", holder.value
    assert_equal "second\n", f.readline
  ensure
    f&.close
    [a, b].each { |s| s&.close }
  end

  # A trap handler that uses the file its own thread is reading gets an
  # exception (the lock is not recursive), never a re-entered stream.
  def test_trap_reusing_the_file_being_read_raises
    a, b = SK.socketpair
    f = a.makefile("rb")
    seen = Queue.new
    old = trap("USR1") do
      f.readline
    rescue ThreadError => e
      seen << e
    end
    t = Thread.new { f.readline }
    wait_in_syscall(t, :recvfrom)
    Process.kill("USR1", Process.pid)
    500.times { break unless seen.empty?; sleep 0.01 }
    b.sendall("whole\n")
    assert_equal "whole\n", t.value
    assert_kind_of ThreadError, seen.pop
  ensure
    trap("USR1", old || "DEFAULT")
    f&.close
    [a, b].each { |s| s&.close }
  end
end
