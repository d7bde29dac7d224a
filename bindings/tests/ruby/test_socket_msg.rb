# The 1.1 socket methods in Ruby: dup, inheritability, sendfile (Integer or
# IO), send_fds/recv_fds (Integer or IO in, Integers out, close-on-exec),
# sendmsg, and that their blocking calls release the GVL.
require_relative "helper"
require "tempfile"

class TestSocketMsg < Minitest::Test
  include SKTestHelper

  def unix_pair
    SK::Socket.pair(SK::AF_UNIX, SK::SOCK_STREAM)
  end

  def test_dup_keeps_mode_and_survives_close
    c, s = tcp_pair
    c.settimeout(2.5)
    d = c.dup
    assert_kind_of SK::Socket, d
    refute_equal c.fileno, d.fileno
    assert_equal 2.5, d.gettimeout
    assert_equal false, d.get_inheritable
    c.close
    d.sendall("via dup")
    assert_equal "via dup", recv_exactly(s, 7)
    d.set_inheritable(true)
    assert_equal true, d.get_inheritable
    d.set_inheritable(false)
    assert_equal false, d.get_inheritable
    assert_raises(Errno::EBADF) { c.dup }
  ensure
    [c, s, d].each { |x| x&.close }
  end

  def test_sendfile_with_io_and_integer
    data = (0...200_000).map { |i| (i * 7 % 251).chr }.join.b
    Tempfile.create("sk-sendfile") do |f|
      f.binmode
      f.write(data)
      f.flush
      f.seek(5)
      c, s = tcp_pair
      s.settimeout(10)
      assert_equal 1000, c.sendfile(f, 100, 1000)
      assert_equal data[100, 1000], recv_exactly(s, 1000)
      assert_equal 5, f.pos # the IO's position did not move
      assert_equal 10, c.sendfile(f.fileno, data.bytesize - 10)
      assert_equal data[-10..], recv_exactly(s, 10)
      assert_equal 0, c.sendfile(f, data.bytesize + 1, nil)
      assert_raises(TypeError) { c.sendfile("not a file") }
      assert_raises(Errno::EINVAL) { c.sendfile(-1) }
    ensure
      c&.close
      s&.close
    end
  end

  def test_send_and_recv_fds
    a, b = unix_pair
    b.settimeout(10)
    r, w = IO.pipe
    before = fd_count
    assert_equal 2, a.send_fds("hi", [w, w.fileno])
    data, fds, flags = b.recv_fds(16, 1)
    assert_equal "hi", data
    assert_equal Encoding::BINARY, data.encoding
    assert_equal 1, fds.size
    assert_kind_of Integer, fds[0]
    refute_equal 0, flags & SK::MSG_CTRUNC # the second one was closed
    assert_equal before + 1, fd_count
    copy = IO.for_fd(fds[0])
    assert copy.close_on_exec?
    copy.write("through the copy")
    copy.close
    assert_equal "through the copy", r.readpartial(100)
    assert_raises(Errno::EINVAL) { a.send_fds("", [w]) }
    assert_raises(Errno::EINVAL) { a.send_fds("x", [w] * 254) }
    assert_raises(TypeError) { a.send_fds("x", ["nope"]) }
    c, s = tcp_pair
    assert_raises(Errno::EINVAL) { c.send_fds("x", [w]) }
    b.settimeout(0.1)
    assert_raises(SK::TimeoutError) { b.recv_fds(16, 1) }
  ensure
    [a, b, r, w, c, s].each { |x| x&.close }
  end

  def test_sendmsg_gathers
    a, b = unix_pair
    assert_equal 9, a.sendmsg(["head:", "body".b])
    assert_equal "head:body", recv_exactly(b, 9)
    assert_equal 0, a.sendmsg([])
    assert_raises(TypeError) { a.sendmsg([1, 2]) }
    assert_raises(TypeError) { a.sendmsg("not an array") }
  ensure
    a&.close
    b&.close
  end

  # A blocked recv_fds lets other threads run (wait_in_syscall could not
  # see it otherwise) and Thread#kill stops it.
  def test_recv_fds_releases_gvl
    a, b = unix_pair
    t = Thread.new { b.recv_fds(16, 4) }
    wait_in_syscall(t, :recvmsg)
    t.kill
    assert t.join(10), "the blocked recv_fds was not stopped"
  ensure
    a&.close
    b&.close
  end
end
