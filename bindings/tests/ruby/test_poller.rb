# SocketKit::Poller over real sockets: the same objects handed back,
# sockets kept alive while registered, closed ones never reported, a wait
# that releases the GVL and stops for Thread#kill and Timeout, and
# SocketFile#buffered.
require_relative "helper"
require "timeout"

class TestPoller < Minitest::Test
  include SKTestHelper

  BOUND = 10 # seconds: only catches a hang

  def pair
    a, b = SK::Socket.pair
    a.settimeout(0)
    b.settimeout(0)
    [a, b]
  end

  def test_constants
    %i[POLLIN POLLOUT POLLERR POLLHUP POLLET].each { |c| assert_kind_of Integer, SK.const_get(c) }
    assert_equal 1 << 31, SK::POLLET
    assert_equal(-(1 << 31), SK.constant("POLLET"))
  end

  def test_level_triggered_same_objects
    p = SK::Poller.new
    a, b = pair
    data = Object.new
    p.add(a, SK::POLLIN, data)
    assert_equal [], p.wait(0)
    b.sendall("x")
    2.times do
      ev = p.wait(BOUND)
      assert_equal 1, ev.size
      sock, events, d = ev.first
      assert_same a, sock
      assert_same data, d
      assert_equal SK::POLLIN, events
    end
    assert_equal "x", a.recv(10)
    assert_equal [], p.wait(0)
  end

  def test_edge_triggered
    p = SK::Poller.new
    a, b = pair
    p.add(a, SK::POLLIN | SK::POLLET)
    b.sendall("x")
    assert_equal 1, p.wait(BOUND).size
    assert_equal [], p.wait(0)
  end

  def test_modify_remove_exists_missing
    p = SK::Poller.new
    a, b = pair
    p.add(a, SK::POLLOUT, :one)
    assert_raises(Errno::EEXIST) { p.add(a, SK::POLLIN) }
    assert_raises(Errno::ENOENT) { p.modify(b, SK::POLLIN) }
    assert_raises(Errno::ENOENT) { p.remove(b) }
    assert_equal :one, p.wait(0).first[2]
    p.modify(a, SK::POLLIN, :two)
    assert_equal [], p.wait(0)
    b.sendall("y")
    assert_equal :two, p.wait(BOUND).first[2]
    p.remove(a)
    assert_raises(Errno::ENOENT) { p.remove(a) }
    assert_raises(Errno::EINVAL) { p.add(a, 0x2) }
  end

  def test_raw_descriptor
    p = SK::Poller.new
    r, w = IO.pipe
    p.add(r.fileno, SK::POLLIN, "pipe")
    w.write("z")
    assert_equal [[r.fileno, SK::POLLIN, "pipe"]], p.wait(BOUND)
    p.remove(r.fileno)
    assert_equal [], p.wait(0)
  ensure
    r&.close
    w&.close
  end

  def test_wakeup_kept_and_from_a_thread
    p = SK::Poller.new
    p.wakeup
    assert_equal [], p.wait
    t = Thread.new { p.wait }
    wait_in_syscall(t, :epoll_wait, :epoll_pwait)
    p.wakeup
    assert t.join(BOUND), "wait did not return after wakeup"
    assert_equal [], t.value
  end

  def test_wait_releases_gvl_and_is_interruptible
    p = SK::Poller.new
    t = Thread.new { p.wait }
    wait_in_syscall(t, :epoll_wait, :epoll_pwait) # this thread ran meanwhile
    t.kill
    assert t.join(BOUND), "Thread#kill did not stop the wait"
    assert_raises(Timeout::Error) { Timeout.timeout(0.2) { p.wait } }
    # a signal that raises nothing leaves a timed wait to its time
    assert_equal [], p.wait(0.05)
  end

  def test_registered_socket_stays_alive
    p = SK::Poller.new
    peer = nil
    [1].each do
      a, b = pair
      p.add(a, SK::POLLIN, :kept)
      peer = b
    end
    GC.start
    peer.sendall("still there")
    ev = p.wait(BOUND)
    assert_equal 1, ev.size
    sock, _, data = ev.first
    assert_equal :kept, data
    assert_equal "still there", sock.recv(100)
  end

  def test_closed_socket_never_reported
    p = SK::Poller.new
    a, b = pair
    p.add(a, SK::POLLIN)
    f = a.makefile("rb")
    b.sendall("x")
    a.close
    assert_equal [], p.wait(0)
    assert_raises(Errno::EBADF) { p.remove(a) }
    assert_raises(Errno::EBADF) { p.add(a, SK::POLLIN) }
    f.close
  end

  def test_pollhup_unasked
    p = SK::Poller.new
    a, b = pair
    p.add(a, 0)
    b.close
    ev = p.wait(BOUND)
    assert_equal 1, ev.size
    refute_equal 0, ev.first[1] & SK::POLLHUP
  end

  def test_bad_arguments
    p = SK::Poller.new
    assert_raises(TypeError) { p.add("nope", SK::POLLIN) }
    assert_raises(TypeError) { p.add(3, "x") }
    assert_raises(TypeError) { p.wait("soon") }
    assert_raises(Errno::EINVAL) { p.wait(-5) }
    assert_raises(Errno::EINVAL) { p.add(-1, SK::POLLIN) }
    a, = pair
    a.close
    assert_raises(Errno::EBADF) { p.add(a, SK::POLLIN) }
  end

  def test_buffered
    a, b = SK::Socket.pair
    a.settimeout(BOUND)
    f = a.makefile("rb")
    assert_equal 0, f.buffered
    b.sendall("one\ntwo\n")
    assert_equal "one\n", f.readline
    assert_equal 4, f.buffered
    f.close
    assert_raises(Errno::EBADF) { f.buffered }
  end

  def test_pollers_collected_with_their_descriptors
    GC.start
    before = fd_count
    200.times do
      p = SK::Poller.new
      a, b = pair
      p.add(a, SK::POLLIN, [b])
    end
    GC.start
    GC.start
    assert_operator fd_count, :<=, before + 6 # the conservative GC may keep a few
  end

  def settled_fd_count
    3.times { GC.start(full_mark: true, immediate_sweep: true) }
    fd_count
  end

  # In a method of its own, so no local of the caller's frame keeps one.
  def make_and_drop_pollers(count, a, b)
    count.times do |i|
      p = SK::Poller.new
      p.add(a, SK::POLLIN, i) if i.even?
      p.add(b, SK::POLLOUT) if (i % 3).zero?
      # a collection now and then, as a long-running program has: 10,000
      # pollers at once would be 20,000 descriptors
      GC.start if (i % 1000) == 999
    end
    nil
  end

  def test_10000_pollers_dropped_socket_still_works
    skip "heavy" if quick?
    a, b = pair
    before = settled_fd_count
    make_and_drop_pollers(10_000, a, b)
    assert_equal before, settled_fd_count
    # The collected pollers let go of the sockets: both still work, and a
    # new poller takes them.
    b.sendall("after")
    assert_equal "after", a.recv(10)
    p = SK::Poller.new
    p.add(a, SK::POLLIN, :new)
    b.sendall("x")
    assert_equal [[a, SK::POLLIN, :new]], p.wait(BOUND)
  end

  def register_close_and_drop(poller, count, seen)
    count.times do |i|
      a, b = pair
      poller.add(a, SK::POLLIN, [i])
      b.sendall("x") # ready: a report would show it
      seen[a] = true
      a.close
      b.close
    end
    nil
  end

  def test_closed_sockets_dropped_are_collected_never_reported
    p = SK::Poller.new
    seen = ObjectSpace::WeakMap.new
    settled_fd_count
    register_close_and_drop(p, 1000, seen)
    3.times { GC.start(full_mark: true, immediate_sweep: true) }
    assert_equal [], p.wait(0)
    # The poller keeps at most the last closed socket of each number (every
    # pair here got the same two); the conservative GC may keep a few more.
    assert_operator seen.keys.size, :<=, 6
  end

  def test_ten_thousand_sockets
    skip "heavy" if quick?
    p = SK::Poller.new
    socks = Array.new(10_000) do |i|
      s = SK::Socket.new(SK::AF_INET, SK::SOCK_DGRAM)
      s.settimeout(0)
      s.bind("127.0.0.1", 0)
      p.add(s, SK::POLLIN, i)
      s
    end
    sender = SK::Socket.new(SK::AF_INET, SK::SOCK_DGRAM)
    sender.sendto("d", *socks[9_999].getsockname)
    ev = p.wait(BOUND)
    assert_equal 1, ev.size
    assert_same socks[9_999], ev.first[0]
    assert_equal 9_999, ev.first[2]
  ensure
    socks&.each(&:close)
    sender&.close
  end
end
