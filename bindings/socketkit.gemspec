# The Ruby extension as a gem, built against an installed libsocketkit:
#   gem build socketkit.gemspec
#   gem install ./socketkit-<version>.gem -- --with-socketkit-dir=/usr/local
# extconf.rb runs SWIG on socketkit.i, as the CMake build does.

# The version is written once, in socketkit.h's SK_VERSION_* lines; the gem
# takes it from the header of the source tree this file belongs to.
socketkit_header = File.expand_path("../capi/include/socketkit.h", __dir__)
socketkit_version = %w[MAJOR MINOR PATCH].map do |part|
  File.read(socketkit_header)[/^#define SK_VERSION_#{part} +(\d+) *$/, 1] or
    raise "#{socketkit_header} has no '#define SK_VERSION_#{part} N' line"
end.join(".")

Gem::Specification.new do |spec|
  spec.name = "socketkit"
  spec.version = socketkit_version
  spec.summary = "Sockets with Python's socket semantics, over the socketkit C library"
  spec.description = "SocketKit::Socket with Python's method names, Errno exceptions, " \
                     "timeouts, makefile, and blocking calls that release the GVL."
  spec.authors = ["socketkit"]
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"
  spec.files = %w[
    socketkit.i
    socket_msg.i
    common/skb_ops.h
    common/skb_msg_ops.h
    ruby/socketkit_ruby.i
    ruby/socket_msg_ruby.i
    ruby/socketkit_ruby_tail.i
    ruby/lib/socketkit.rb
    ruby/ext/extconf.rb
  ]
  spec.require_paths = ["ruby/lib"]
  spec.extensions = ["ruby/ext/extconf.rb"]
end
