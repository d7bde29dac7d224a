# A trapped signal does not restart a call's timeout: after the trap handler
# runs, the call goes on with the time that is left of its one budget. Each
# case makes the proof deterministic: the handler outlasts the timeout and
# then makes the call able to succeed (data, a client, room, a free backlog
# slot), so a call given a fresh budget would succeed, while the right one
# has no time left and raises SocketKit::TimeoutError without waiting again.
require_relative "helper"
require "rbconfig"

class TestTrapBudget < Minitest::Test
  include SKTestHelper

  TIMEOUT = 0.5
  OUTLAST = 0.8 # the handler's sleep: longer than TIMEOUT

  # Runs the block with a USR1 trap that sleeps past the timeout and then
  # calls `after`; USR1 is sent once the calling thread is seen blocked in
  # one of `syscalls`. Returns whether the handler ran while the call was
  # still in progress (otherwise the case proved nothing).
  def with_trapped_signal(syscalls, after)
    during = nil
    returned = false
    old = trap("USR1") do
      during = !returned
      sleep OUTLAST
      after.call
    end
    main = Thread.current
    sender = Thread.new do
      wait_in_syscall(main, *syscalls)
      Process.kill("USR1", Process.pid)
    end
    begin
      yield
    ensure
      returned = true
      sender.join(10)
      trap("USR1", old || "DEFAULT")
    end
    during
  end

  # The call raises the timeout although `after` made it able to succeed,
  # and the signal came while it was in progress. Returns the exception.
  def assert_budget_kept(syscalls, after, &call)
    err = nil
    during = with_trapped_signal(syscalls, after) do
      err = assert_raises(SK::TimeoutError, &call)
    end
    assert during, "the signal came during the call"
    err
  end

  # A connected pair whose first socket is in timeout mode.
  def timed_pair
    a, b = SK.socketpair
    a.settimeout(TIMEOUT)
    [a, b]
  end

  def test_recv
    a, b = timed_pair
    err = assert_budget_kept(%i[recvfrom], -> { b.sendall("x") }) { a.recv(10) }
    assert_match(/\Arecv: /, err.message)
    assert_equal TIMEOUT, a.gettimeout, "the socket's own timeout is back"
    assert_equal "x", a.recv(10), "the handler's bytes wait for the next call"
  ensure
    [a, b].each { |s| s&.close }
  end

  def test_readline_and_read
    a, b = timed_pair
    f = a.makefile("rb")
    assert_budget_kept(%i[recvfrom], -> { b.sendall("line\n") }) { f.readline }
    assert_equal "line\n", f.readline
    assert_budget_kept(%i[recvfrom], -> { b.sendall("12345") }) { f.read(5) }
    assert_equal TIMEOUT, a.gettimeout, "the socket's own timeout is back"
    assert_equal "12345", f.read(5)
  ensure
    f&.close
    [a, b].each { |s| s&.close }
  end

  def test_accept
    l = listener
    l.settimeout(TIMEOUT)
    client = SK::Socket.new
    assert_budget_kept(%i[accept4], -> { client.connect(*l.getsockname) }) { l.accept }
    conn, = l.accept
    conn.close
  ensure
    [l, client].each { |s| s&.close }
  end

  # The handler starts a reader that drains the peer to EOF: a fresh budget
  # would let sendall finish. What the reader got must be the start of the
  # data, each byte once: sendall went on from where it was, not over.
  def test_sendall_goes_on_from_where_it_was
    a, b = timed_pair
    big = (0...(1 << 20)).to_a.pack("N*") # 4 MiB, every 4 bytes different
    got = nil
    drain = -> { got = Thread.new { b.settimeout(30); buf = "".b; while (d = b.recv(1 << 16)) != ""; buf << d; end; buf } }
    assert_budget_kept(%i[sendto], drain) { a.sendall(big) }
    a.close
    data = got.value
    assert_operator data.bytesize, :<, big.bytesize
    assert_equal big.byteslice(0, data.bytesize), data
  ensure
    [a, b].each { |s| s&.close }
  end

  # An AF_UNIX listener with a full backlog keeps a blocking connect waiting
  # in the kernel; the handler accepts one pending client, which frees a slot.
  def test_connect
    path = File.join(Dir.mktmpdir, "l.sock")
    l = SK::Socket.new(SK::AF_UNIX)
    l.bind(path)
    l.listen(0)
    fillers = []
    20.times do
      s = SK::Socket.new(SK::AF_UNIX)
      s.setblocking(false)
      begin
        s.connect(path)
      rescue Errno::EAGAIN
        s.close
        break
      end
      fillers << s
    end
    c = SK::Socket.new(SK::AF_UNIX)
    c.settimeout(TIMEOUT)
    accepted = []
    assert_budget_kept(%i[connect], -> { accepted << l.accept.first }) { c.connect(path) }
    assert_equal 1, accepted.size
  ensure
    [l, c, *fillers, *accepted].each { |s| s&.close }
  end

  # Quick traps every 50 ms for up to 5 s: each retry gets the time left, so
  # the call ends with its timeout while the signals are still coming (with
  # a budget restarted by every trap it would last until they stop).
  def test_signal_storm_still_times_out
    a, b = timed_pair
    traps = 0
    old = trap("USR1") { traps += 1 }
    main = Thread.current
    done = false
    storm = Thread.new do
      wait_in_syscall(main, :recvfrom)
      100.times do
        break if done

        Process.kill("USR1", Process.pid)
        sleep 0.05
      end
    end
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(SK::TimeoutError) { a.recv(10) }
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    stormed = storm.alive?
    done = true
    storm.join(10)
    assert_operator traps, :>=, 2, "the call was interrupted"
    assert stormed, "the call ended while signals were still coming (#{elapsed.round(2)} s)"
    assert_equal TIMEOUT, a.gettimeout
  ensure
    trap("USR1", old || "DEFAULT")
    [a, b].each { |s| s&.close }
  end

  # The only Ruby thread keeps the GVL during the call (minitest's own
  # worker threads make this process unfit, so a child Ruby runs the case);
  # the signal comes from a shell once that thread is seen in recvfrom.
  ALONE = <<~'RUBY'
    require "socketkit"
    SK = SocketKit
    abort "other threads" unless Thread.list.size == 1
    a, b = SK.socketpair
    a.settimeout(0.5)
    during = nil
    returned = false
    trap("USR1") do
      during = !returned
      sleep 0.8
      b.sendall("x")
    end
    pid = Process.pid
    script = "i=0; while [ $i -lt 1000 ]; do set -- $(cat /proc/#{pid}/task/#{pid}/syscall); " \
             "if [ \"$1\" = 45 ]; then kill -USR1 #{pid}; exit 0; fi; sleep 0.005; i=$((i+1)); done; exit 1"
    child = spawn("sh", "-c", script)
    outcome = begin
      a.recv(10)
    rescue SK::TimeoutError
      :timeout
    end
    returned = true
    Process.wait(child)
    abort "the signalling process never saw the call" unless $?.success?
    abort "the handler did not run during the call" unless during
    abort "got #{outcome.inspect}, want a timeout" unless outcome == :timeout
    abort "the handler's bytes are lost" unless a.recv(10) == "x"
  RUBY

  def test_recv_without_other_threads
    out = IO.popen([RbConfig.ruby, "-W0", "-e", ALONE], err: %i[child out], &:read)
    assert $?.success?, out
  end
end
