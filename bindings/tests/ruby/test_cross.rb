# Cross-language: a Ruby echo server and the C client (examples/echo_client),
# and the Ruby example client against the C echo server.
# Needs SKB_ECHO_CLIENT, SKB_ECHO_SERVER and SKB_RUBY_CLIENT in the environment.
require_relative "helper"

class TestCross < Minitest::Test
  include SKTestHelper

  def ruby_echo_server(family)
    l = listener(family)
    t = Thread.new do
      conn, = l.accept
      conn.settimeout(10)
      while (d = conn.recv(65_536)) != ""
        conn.sendall(d)
      end
      conn.close
      :served
    end
    [l, t]
  end

  def test_c_client_against_ruby_server
    { SK::AF_INET => "127.0.0.1", SK::AF_INET6 => "::1" }.each do |family, host|
      l, t = ruby_echo_server(family)
      msg = "hello from C over #{host}"
      out = IO.popen([ENV.fetch("SKB_ECHO_CLIENT"), host, l.getsockname[1].to_s, msg], &:read)
      assert $?.success?, "echo_client exited with #{$?.exitstatus}"
      assert_equal "#{msg}\n", out
      assert_equal :served, t.value
      l.close
    end
  end

  def test_ruby_example_client_against_c_server
    IO.popen([ENV.fetch("SKB_ECHO_SERVER"), "127.0.0.1", "0", "1"]) do |server|
      port = server.gets[/listening on .*:(\d+)$/, 1]
      refute_nil port
      out = IO.popen([RbConfig.ruby, ENV.fetch("SKB_RUBY_CLIENT"), "127.0.0.1", port,
                      "hello from ruby"], &:read)
      assert $?.success?
      assert_equal "hello from ruby\n", out
      assert_match(/echoed 15 bytes/, server.read)
    end
  end
end
